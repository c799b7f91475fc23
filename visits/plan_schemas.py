"""Pydantic models of care plans at the visits edges: a plan, its recurring visits, one-off changes."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Any, Literal, Self
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from kernel.strict import RequestBody, UuidText, at_most_as_sent
from visits import examples
from visits.schemas import DateText, Label, Reason, RuleKind, TimeText, Weekday

_PLAN_VISIT_EXAMPLE: dict[str, Any] = {
    "label": "morning",
    "weekdays": [1, 2, 3, 4, 5, 6, 7],
    "start_time": "08:00",
    "planned_minutes": 45,
    "tasks": ["medication", "breakfast", "personal care"],
    "carers_required": 1,
    "required_skills": ["medication"],
    "carer_ids": ["6f1c2a9e-8d4b-4c1e-9a57-2b1f3c4d5e6f"],
}


class AlertRulesIn(RequestBody):
    """How a plan's visit alerts are tuned; every field has the issue's default."""

    late_after_minutes: int = Field(15, ge=1, le=720, description="late: no check-in N min after start")
    missed_after_minutes: int | None = Field(
        None, ge=1, le=1440, description="missed: no check-in N min after start (null: by the planned end)"
    )
    short_below_percent: int = Field(75, ge=1, le=100, description="short: checked out below N % of plan")
    no_checkout_after_minutes: int = Field(60, ge=1, le=1440, description="no check-out N min after end")
    alerts_off: list[RuleKind] = Field(default_factory=list, description="rules switched off for this plan")


class PlanVisitIn(RequestBody):
    """A recurring visit of a plan: weekdays, local start time, minutes, tasks, carers and skills."""

    model_config = ConfigDict(json_schema_extra={"examples": [_PLAN_VISIT_EXAMPLE]})

    label: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100), at_most_as_sent(100)] = ""
    weekdays: Annotated[list[Weekday], Field(min_length=1, max_length=7)]
    interval_weeks: int = Field(1, ge=1, le=8, description="every N weeks (1: every week)")
    start_time: TimeText = Field(description="the home's local wall-clock time")
    planned_minutes: int = Field(ge=5, le=1440)
    tasks: Annotated[list[Label], Field(max_length=20)] = Field(default_factory=list)
    carers_required: int = Field(1, ge=1, le=4, description="2 for a double-up")
    required_skills: Annotated[list[Label], Field(max_length=10)] = Field(default_factory=list)
    carer_ids: Annotated[list[UuidText], Field(max_length=4)] = Field(
        default_factory=list, description="the standing assignment given to each new visit"
    )

    @model_validator(mode="after")
    def _distinct(self) -> Self:
        if len(set(self.weekdays)) != len(self.weekdays) or len(set(self.tasks)) != len(self.tasks):
            raise ValueError("weekdays and tasks must not repeat")
        if len(self.carer_ids) > self.carers_required:
            raise ValueError("more standing carers than the visit needs")
        return self


class PlanIn(RequestBody):
    """A home's care plan: its recurring visits, from a local date (to another), with its alert rules."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "Daily support",
                    "service_type": "personal_care",
                    "starts_on": "2026-12-01",
                    "visits": [_PLAN_VISIT_EXAMPLE],
                    "rules": {"late_after_minutes": 15},
                }
            ]
        }
    )

    name: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), at_most_as_sent(200)
    ]
    service_type: Label = "personal_care"
    starts_on: DateText
    ends_on: DateText | None = None
    visits: Annotated[list[PlanVisitIn], Field(min_length=1, max_length=20)]
    rules: AlertRulesIn = Field(default_factory=AlertRulesIn)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.ends_on is not None and self.ends_on < self.starts_on:
            raise ValueError("ends_on must not be before starts_on")
        return self


class CancelIn(RequestBody):
    """Cancel one occurrence of a recurring visit (by its local date)."""

    kind: Literal["cancel"]
    plan_visit_id: UuidText
    occurrence_date: DateText
    reason: Reason


class MoveIn(RequestBody):
    """Move one occurrence to another local date and time (and, optionally, other minutes or tasks)."""

    kind: Literal["move"]
    plan_visit_id: UuidText
    occurrence_date: DateText
    local_date: DateText
    start_time: TimeText
    planned_minutes: int | None = Field(None, ge=5, le=1440)
    tasks: Annotated[list[Label], Field(max_length=20)] | None = None
    reason: Reason


class ExtraIn(RequestBody):
    """A one-off visit outside the recurrence."""

    kind: Literal["extra"]
    plan_visit_id: UuidText | None = Field(None, description="copy carers, skills and tasks from this one")
    local_date: DateText
    start_time: TimeText
    planned_minutes: int = Field(ge=5, le=1440)
    tasks: Annotated[list[Label], Field(max_length=20)] | None = None
    reason: Reason


class PauseIn(RequestBody):
    """Pause the whole plan between two local dates, inclusive (a hospital stay)."""

    kind: Literal["pause"]
    paused_from: DateText
    paused_until: DateText
    reason: Reason

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.paused_until < self.paused_from:
            raise ValueError("paused_until must not be before paused_from")
        return self


PlanChangeIn = Annotated[CancelIn | MoveIn | ExtraIn | PauseIn, Field(discriminator="kind")]


class PlanVisitOut(BaseModel):
    """A recurring visit of a plan."""

    id: UUID
    label: str
    weekdays: list[int]
    interval_weeks: int
    start_time: time
    planned_minutes: int
    tasks: list[str]
    carers_required: int
    required_skills: list[str]
    carer_ids: list[UUID]
    active: bool


class PlanChangeOut(BaseModel):
    """A one-off change to a plan."""

    id: UUID
    kind: Literal["cancel", "move", "extra", "pause"]
    plan_visit_id: UUID | None
    occurrence_date: date | None
    local_date: date | None
    start_time: time | None
    planned_minutes: int | None
    tasks: list[str] | None
    paused_from: date | None
    paused_until: date | None
    reason: str
    created_at: datetime


class PlanOut(BaseModel):
    """A home's care plan as stored."""

    model_config = ConfigDict(json_schema_extra={"examples": [examples.PLAN]})

    id: UUID
    home_id: UUID
    organisation_id: UUID
    name: str
    service_type: str
    starts_on: date
    ends_on: date | None
    active: bool
    rules: dict[str, Any]
    visits: list[PlanVisitOut]
    changes: list[PlanChangeOut]
    created_at: datetime
