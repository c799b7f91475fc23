"""Pydantic models at the rostering edges: carer profiles, roster requests, rosters and their comparison."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, Strict

from kernel.strict import EnumValue, RequestBody
from rostering.model import TravelMode, Weights

_W = Weights()  # the defaults
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_CARER = "5f0c2a9e-1b7d-4c3e-9a8f-2d6e4b1c7a90"
_ORG = "0b7e4c1a-3f2d-4e5b-8a9c-1d2e3f4a5b6c"
_ROSTER = "7d1e9b2c-4a6f-4e8d-b3c5-9f0a1b2c3d4e"
_VISIT = "c3d4e5f6-a7b8-4c9d-8e0f-1a2b3c4d5e6f"
_PROFILE: dict[str, Any] = {
    "home_latitude": 51.4613,
    "home_longitude": -0.3037,
    "travel_mode": "car",
    "max_week_minutes": 2250,
    "working_hours": {"1": [["07:00", "15:00"]], "2": [["07:00", "15:00"]], "5": [["13:00", "22:00"]]},
    "timezone": "Europe/London",
}


def _hours(value: dict[str, list[list[str]]]) -> dict[str, list[list[str]]]:
    for day, spans in value.items():
        if day not in {"1", "2", "3", "4", "5", "6", "7"}:
            raise ValueError(f"working_hours: {day!r} is not an ISO weekday (1 = Monday ... 7 = Sunday)")
        for span in spans:
            if len(span) != 2 or not all(_HHMM.match(t) for t in span) or span[0] >= span[1]:
                raise ValueError(
                    f"working_hours[{day}]: {span!r} is not a [start, end] of HH:MM, start first"
                )
    return value


# A date as JSON carries it: its ISO text.
DateText = Annotated[date, Strict(False)]
WorkingHours = Annotated[dict[str, list[list[str]]], AfterValidator(_hours)]


class CarerProfileIn(RequestBody):
    """Where a carer starts, how they travel, when they work and how many hours a week at most."""

    model_config = ConfigDict(json_schema_extra={"examples": [_PROFILE]})
    home_latitude: float = Field(ge=-90, le=90)
    home_longitude: float = Field(ge=-180, le=180)
    travel_mode: EnumValue[TravelMode] = TravelMode.CAR
    max_week_minutes: int = Field(default=2400, ge=0, le=10080)
    working_hours: WorkingHours = Field(default_factory=dict)
    timezone: str = Field(default="Europe/London", min_length=1, max_length=64)


class CarerProfileOut(BaseModel):
    """A carer's rostering profile."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"user_id": _CARER, "organisation_id": _ORG, **_PROFILE, "updated_at": "2026-12-01T09:00:00Z"}
            ]
        }
    )
    user_id: UUID
    organisation_id: UUID
    home_latitude: float
    home_longitude: float
    travel_mode: TravelMode
    max_week_minutes: int
    working_hours: dict[str, list[list[str]]]
    timezone: str
    updated_at: datetime


class WeightsIn(RequestBody):
    """What the coordinator trades off, each in seconds of travel: see the README's rostering section."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"travel": 1.0, "new_carer": 3600.0}]})
    travel: float = Field(default=_W.travel, ge=0, le=100)
    lateness: float = Field(default=_W.lateness, ge=0, le=100)
    new_carer: float = Field(default=_W.new_carer, ge=0, le=86400)
    fairness: float = Field(default=_W.fairness, ge=0, le=100)
    late_grace_minutes: int = Field(default=_W.late_grace_s // 60, ge=0, le=240)

    def weights(self) -> Weights:
        """As the solver's weights."""
        return Weights(
            travel=self.travel,
            lateness=self.lateness,
            new_carer=self.new_carer,
            fairness=self.fairness,
            late_grace_s=self.late_grace_minutes * 60,
        )


class RosterIn(RequestBody):
    """A date range to roster (the organisation's visits from start to end, local dates, inclusive)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"start": "2026-12-07", "end": "2026-12-13", "time_limit_s": 30}]}
    )
    start: DateText
    end: DateText
    weights: WeightsIn = Field(default_factory=WeightsIn)
    time_limit_s: float = Field(default=30.0, ge=0.5, le=600, description="solver time per day")


class AssignmentOut(BaseModel):
    """A visit's carers in a roster, and why them."""

    visit_id: str
    carer_ids: list[UUID]
    starts_at: datetime
    late_s: int
    reasons: list[str]


class RoundOut(BaseModel):
    """One carer's day in order."""

    carer_id: UUID
    day: date
    depart_at: datetime
    back_at: datetime
    travel_s: int
    stops: list[dict[str, Any]]


class UncoveredOut(BaseModel):
    """A visit nobody could take, and why."""

    visit_id: str
    reason: str


_ROSTER_OUT: dict[str, Any] = {
    "id": _ROSTER,
    "organisation_id": _ORG,
    "period_start": "2026-12-07",
    "period_end": "2026-12-07",
    "status": "ready",
    "progress": 1.0,
    "message": "done",
    "figures": {"visits": 1, "covered": 1, "travel_h": 0.4},
    "created_at": "2026-12-01T09:00:00Z",
    "finished_at": "2026-12-01T09:01:00Z",
    "accepted_at": None,
    "assignments": [
        {
            "visit_id": _VISIT,
            "carer_ids": [_CARER],
            "starts_at": "2026-12-07T08:00:00Z",
            "late_s": 0,
            "reasons": ["has visited the client in the last 28 days", "on time"],
        }
    ],
    "rounds": [],
    "uncovered": [],
}


class RosterOut(BaseModel):
    """A roster: while it runs, its progress; then its figures, assignments, rounds and uncovered visits."""

    model_config = ConfigDict(json_schema_extra={"examples": [_ROSTER_OUT]})
    id: UUID
    organisation_id: UUID
    period_start: date
    period_end: date
    status: str
    progress: float
    message: str
    figures: dict[str, Any] | None
    created_at: datetime
    finished_at: datetime | None
    accepted_at: datetime | None
    assignments: list[AssignmentOut] = Field(default_factory=list)
    rounds: list[RoundOut] = Field(default_factory=list)
    uncovered: list[UncoveredOut] = Field(default_factory=list)


class CompareOut(BaseModel):
    """Two rosters side by side: their figures, the differences, and how many visits changed carers."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "a": _ROSTER,
                    "b": _ROSTER,
                    "figures": {"travel_h": {"a": 10.5, "b": 12.0, "b_minus_a": 1.5}},
                    "visits_with_other_carers": 3,
                    "only_in_a": [],
                    "only_in_b": [],
                }
            ]
        }
    )
    a: UUID
    b: UUID
    figures: dict[str, dict[str, float | None]]
    visits_with_other_carers: int
    only_in_a: list[str]
    only_in_b: list[str]


class ReplanIn(RequestBody):
    """A carer who cannot work from a moment on (called in sick at 07:00): the rest of that day re-planned."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"carer_id": _CARER, "at": "2026-12-07T07:00:00Z", "time_limit_s": 10}]
        }
    )
    carer_id: Annotated[UUID, Strict(False)]
    at: Annotated[AwareDatetime, Strict(False)] = Field(
        description="from when the carer is away (with its offset); visits started before it stay"
    )
    time_limit_s: float = Field(default=10.0, ge=0.5, le=120, description="solver time")


class RoundChangeOut(BaseModel):
    """What happened to one carer's round."""

    carer_id: UUID
    removed: list[str]
    added: list[str]
    retimed: list[str]


_OTHER_CARER = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"


class ReplanOut(BaseModel):
    """The new roster (based on the old one) and what changed."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "roster": _ROSTER_OUT,
                    "based_on": _ROSTER,
                    "summary": "1 visit(s) moved off the absent carer's round; 1 other round(s) changed; "
                    "0 left uncovered",
                    "moved": [_VISIT],
                    "changes": [
                        {"carer_id": _CARER, "removed": [_VISIT], "added": [], "retimed": []},
                        {"carer_id": _OTHER_CARER, "removed": [], "added": [_VISIT], "retimed": []},
                    ],
                }
            ]
        }
    )
    roster: RosterOut
    based_on: UUID
    summary: str
    moved: list[str] = Field(description="the absent carer's visits that had to move")
    changes: list[RoundChangeOut]
