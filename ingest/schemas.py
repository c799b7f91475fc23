"""Readings as the API serves them."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field


class ReadingOut(BaseModel):
    """One stored reading: event time from the device, arrival and storage times from us."""

    model_config = ConfigDict(from_attributes=True)

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

    home_id: UUID
    start: datetime
    end: datetime
    items: list[ReadingOut]
