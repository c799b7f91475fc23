"""Pydantic models at the visits edges: care plans and their changes, visits, check-ins, the log."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Any, Literal, Self
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, Strict, StringConstraints, model_validator

from kernel.strict import RequestBody, UuidText, at_most_as_sent
from visits import examples

# Dates and times as JSON carries them: text (strict mode would refuse the string).
DateText = Annotated[date, Strict(False)]
TimeText = Annotated[time, Strict(False)]
InstantText = Annotated[AwareDatetime, Strict(False)]

Label = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64), at_most_as_sent(64)
]
Reason = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500), at_most_as_sent(500)
]
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000), at_most_as_sent(2000)]
Weekday = Annotated[int, Field(ge=1, le=7, description="ISO weekday: 1 Monday .. 7 Sunday")]

Method = Literal["tag", "phone", "manual"]
EventKind = Literal["check_in", "check_out"]
VisitStatus = Literal["planned", "in_progress", "completed", "missed", "cancelled"]
# The board's live status: the stored status read against the clock.
LiveStatus = Literal[
    "upcoming", "due", "late", "in_progress", "overrunning", "completed", "missed", "cancelled"
]
Verdict = Literal["verified", "verified_with_exceptions", "unverified", "missed"]
# Alert rules a plan can switch off (the visit alert kinds of migration 0013).
RuleKind = Literal[
    "visit_late",
    "visit_missed",
    "visit_short",
    "visit_no_checkout",
    "visit_wrong_home",
    "visit_outside_geofence",
    "carer_two_homes",
    "visit_unverified",
]


class VisitCarersIn(RequestBody):
    """The carers of a visit from now on (replacing those assigned), and why."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"carer_ids": ["6f1c2a9e-8d4b-4c1e-9a57-2b1f3c4d5e6f"], "reason": "Sam is off sick"}]
        }
    )

    carer_ids: Annotated[list[UuidText], Field(max_length=4)]
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500), at_most_as_sent(500)] = (
        ""
    )


class PhoneCheckIn(RequestBody):
    """A carer's phone checking in or out: the fix taken at that moment (never a trail), and when."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "latitude": 51.4613,
                    "longitude": -0.3037,
                    "accuracy_m": 12,
                    "event_time": "2026-12-02T08:01:30Z",
                }
            ]
        }
    )

    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    accuracy_m: float | None = Field(None, ge=0, le=100_000)
    event_time: InstantText | None = Field(
        None, description="when it happened on the phone (an offline phone sends later); default: now"
    )

    @model_validator(mode="after")
    def _fix(self) -> Self:
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("give both latitude and longitude, or neither")
        return self


class ManualEntryIn(RequestBody):
    """A coordinator's entry of a check-in or check-out the carer could not make, with the reason."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "kind": "check_in",
                    "carer_id": "6f1c2a9e-8d4b-4c1e-9a57-2b1f3c4d5e6f",
                    "event_time": "2026-12-02T08:03:00Z",
                    "reason": "phone out of battery; carer rang the office on arrival",
                }
            ]
        }
    )

    kind: EventKind
    carer_id: UuidText
    event_time: InstantText
    reason: Reason


class TaskIn(RequestBody):
    """A task of the visit marked done or not done, with a note."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"task": "medication", "status": "not_done", "note": "refused"}]}
    )

    task: Label
    status: Literal["done", "not_done"]
    note: Note = ""


class TagIn(RequestBody):
    """Give an NFC tag to a carer of the organisation."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"tag_id": "04A224B2C35E80", "user_id": "6f1c2a9e-8d4b-4c1e-9a57-2b1f3c4d5e6f"}]
        }
    )

    tag_id: Label
    user_id: UuidText


class SkillsIn(RequestBody):
    """A carer's skills (replacing those they had)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"skills": examples.SKILLS}]})

    skills: Annotated[list[Label], Field(max_length=30)]


class CarerRef(BaseModel):
    """A carer as a visit names them."""

    id: UUID
    name: str


class TaskOut(BaseModel):
    """A task of a visit and whether it was done."""

    task: str
    status: Literal["pending", "done", "not_done"]
    note: str
    recorded_at: datetime | None


class VisitOut(BaseModel):
    """A visit: when it is planned (UTC and the home's local date), who, and how it went so far."""

    model_config = ConfigDict(json_schema_extra={"examples": [examples.VISIT]})

    id: UUID
    home_id: UUID
    organisation_id: UUID
    plan_id: UUID | None
    service_type: str
    local_date: date
    planned_start: datetime
    planned_end: datetime
    planned_minutes: int
    status: VisitStatus
    live_status: LiveStatus
    status_reason: str
    carers_required: int
    required_skills: list[str]
    carers: list[CarerRef]
    tasks: list[TaskOut]
    checked_in_at: datetime | None
    checked_out_at: datetime | None
    check_in_method: Method | None
    check_out_method: Method | None
    minutes_delivered: int | None
    flags: list[str] = Field(description="every flag raised by the visit's check-ins and check-outs")


class VisitEventOut(BaseModel):
    """A check-in or check-out as recorded, accepted or not, with its flags."""

    model_config = ConfigDict(json_schema_extra={"examples": [examples.EVENT]})

    id: UUID
    visit_id: UUID | None
    home_id: UUID
    carer_id: UUID | None
    kind: EventKind
    method: Method
    event_time: datetime = Field(description="when it happened (the reader's or phone's clock)")
    arrival_time: datetime = Field(description="when the backend heard of it")
    accuracy_m: float | None
    distance_m: float | None
    flags: list[str]
    accepted: bool
    reason: str


class BoardOut(BaseModel):
    """Today's board: a page of the organisation's visits of a local day with their live status."""

    model_config = ConfigDict(json_schema_extra={"examples": [examples.BOARD]})

    organisation_id: UUID
    date: date
    counts: dict[str, int] | None = Field(
        description="the whole day's visits by live status, on the first page; null on the pages after"
    )
    visits: list[VisitOut]
    next_cursor: str | None = Field(None, description="pass as `cursor` for the next page; null at the end")


class VerificationOut(BaseModel):
    """One line of the verification log: the six EVV elements, the method, what the home saw, the verdict."""

    model_config = ConfigDict(json_schema_extra={"examples": [examples.VERIFICATION]})

    visit_id: UUID
    service_type: str = Field(description="type of service")
    home_id: UUID
    home_name: str = Field(description="the person receiving the service (their home)")
    carers: list[CarerRef] = Field(description="who provided it")
    local_date: date
    latitude: float | None = Field(description="the location")
    longitude: float | None
    planned_start: datetime
    planned_end: datetime
    checked_in_at: datetime | None = Field(description="start time")
    checked_out_at: datetime | None = Field(description="end time")
    check_in_method: Method | None
    check_out_method: Method | None
    status: VisitStatus
    verdict: Verdict | None = Field(description="null until the verification job has judged the visit")
    reasons: list[Any]
    evidence: dict[str, Any]
    computed_at: datetime | None


class VerificationPage(BaseModel):
    """A page of the verification log, newest planned first."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": [examples.VERIFICATION], "next_cursor": None}]}
    )

    items: list[VerificationOut]
    next_cursor: str | None


class FamilyVisitOut(BaseModel):
    """A relative's visit as a family member sees it: when, who, for how long, the verdict."""

    model_config = ConfigDict(json_schema_extra={"examples": [examples.FAMILY_VISIT]})

    id: UUID
    local_date: date
    planned_start: datetime
    planned_end: datetime
    status: VisitStatus
    carers: list[str]
    checked_in_at: datetime | None
    checked_out_at: datetime | None
    minutes_delivered: int | None
    verdict: Verdict | None
    reasons: list[Any]


class TagOut(BaseModel):
    """A carer's tag."""

    model_config = ConfigDict(json_schema_extra={"examples": [examples.TAG]})

    id: UUID
    tag_id: str
    user_id: UUID
    issued_at: datetime
    revoked_at: datetime | None
