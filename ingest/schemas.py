"""Readings as the API serves them."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

_HOME = "a1b2c3d4-e5f6-4711-8899-aabbccddeeff"
_READING: dict[str, Any] = {
    "time": "2026-11-02T08:41:30Z",
    "received_at": "2026-11-02T08:41:30.412Z",
    "stored_at": "2026-11-02T08:41:30.655Z",
    "device_id": "9c4d2e1f-3a5b-4c7d-8e9f-0a1b2c3d4e5f",
    "seq": 20417,
    "kind": "motion",
    "value": 1.0,
    "payload": {"ts": "2026-11-02T08:41:30Z", "seq": 20417, "detected": True},
    "clock_suspect": False,
}


class ReadingOut(BaseModel):
    """One stored reading: event time from the device, arrival and storage times from us."""

    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [_READING]})

    time: datetime = Field(description="the device's own event time")
    received_at: datetime = Field(description="when the message reached the backend")
    stored_at: datetime = Field(description="when its row was committed")
    device_id: UUID
    seq: int
    kind: str
    value: float | None
    payload: dict[str, Any]
    clock_suspect: bool = Field(description="event time was too far ahead of our clock to trust")


class ReadingPage(BaseModel):
    """A page of readings, newest first."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "home_id": _HOME,
                    "start": "2026-11-01T09:00:00Z",
                    "end": "2026-11-02T09:00:00Z",
                    "items": [_READING],
                }
            ]
        }
    )

    home_id: UUID
    start: datetime
    end: datetime
    items: list[ReadingOut]
