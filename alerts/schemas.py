"""Alerts as the API accepts and returns them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from kernel.strict import RequestBody, UuidText, at_most_as_sent

Severity = Literal["critical", "high", "medium", "low"]
Status = Literal["open", "acknowledged", "resolved"]

_EXAMPLE_ALERT: dict[str, Any] = {
    "id": "3d5c8f0e-2a41-4b7c-9e11-6f2a7b8c9d01",
    "home_id": "a1b2c3d4-e5f6-4711-8899-aabbccddeeff",
    "organisation_id": "0b7e4c1a-3f2d-4e5b-8a9c-1d2e3f4a5b6c",
    "kind": "inactivity",
    "severity": "high",
    "status": "open",
    "dedupe_key": "inactivity",
    "device_id": None,
    "room": "kitchen",
    "title": "No movement since 09:00",
    "explanation": "The home has been quiet for 3 h; on a normal Tuesday there is movement by 09:30.",
    "evidence": [{"room": "kitchen", "last_motion": "2026-11-02T09:00:00Z"}],
    "triggered_at": "2026-11-02T12:00:00Z",
    "last_seen_at": "2026-11-02T12:10:00Z",
    "occurrences": 2,
    "assigned_to": None,
    "acknowledged_at": None,
    "acknowledged_by": None,
    "resolved_at": None,
    "resolved_by": None,
    "resolution": None,
    "resolution_note": None,
    "source": "detector",
    "version": 2,
    "created_at": "2026-11-02T12:00:01Z",
    "updated_at": "2026-11-02T12:10:01Z",
}


class AlertOut(BaseModel):
    """An alert: a continuing condition in a home, from raised to resolved."""

    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [_EXAMPLE_ALERT]})

    id: UUID
    home_id: UUID
    organisation_id: UUID
    kind: str
    severity: Severity
    status: Status
    dedupe_key: str
    device_id: UUID | None
    room: str | None
    title: str
    explanation: str
    evidence: list[dict[str, Any]]
    triggered_at: datetime = Field(description="event time of what raised it")
    last_seen_at: datetime
    occurrences: int
    assigned_to: UUID | None
    acknowledged_at: datetime | None
    acknowledged_by: UUID | None
    resolved_at: datetime | None
    resolved_by: UUID | None
    resolution: Literal["cleared", "cancelled", "handled", "false_alarm"] | None
    resolution_note: str | None
    source: str
    version: int = Field(description="bumped on every change")
    created_at: datetime
    updated_at: datetime


class AlertPage(BaseModel):
    """A page of alerts, newest triggered first."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": [_EXAMPLE_ALERT], "next_cursor": None}]}
    )

    items: list[AlertOut]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; null at the end")


class AlertEventOut(BaseModel):
    """One step in an alert's history: who did what, when."""

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": 12,
                    "alert_id": "3d5c8f0e-2a41-4b7c-9e11-6f2a7b8c9d01",
                    "at": "2026-11-02T12:04:00Z",
                    "action": "acknowledged",
                    "actor_kind": "user",
                    "actor_id": "6f1c2a9e-8d4b-4c1e-9a57-2b1f3c4d5e6f",
                    "actor_name": "Sam Patel",
                    "detail": {"note": "calling her now"},
                }
            ]
        },
    )

    id: int
    alert_id: UUID
    at: datetime
    action: str
    actor_kind: str
    actor_id: UUID | None
    actor_name: str
    detail: dict[str, Any]


Note = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000), at_most_as_sent(2000)
]


class AcknowledgeIn(RequestBody):
    """Acknowledge an alert (someone is dealing with it), optionally with a note."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"note": "calling her now"}]})

    note: Note | None = None


class ResolveIn(RequestBody):
    """Resolve an alert with a note; a false alarm feeds back into the home's thresholds."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"note": "she was in the garden; all well", "false_alarm": True}]},
    )

    note: Note
    false_alarm: bool = False


class AssignIn(RequestBody):
    """Give an alert to a person of the organisation (null: to nobody)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"assignee": "6f1c2a9e-8d4b-4c1e-9a57-2b1f3c4d5e6f"}]}
    )

    assignee: UuidText | None


class AlertChangeOut(BaseModel):
    """An event of the live stream (`event: alert`): what happened and the alert as it now is."""

    action: str = Field(description="raised, updated, escalated, acknowledged, assigned or resolved")
    alert: AlertOut
