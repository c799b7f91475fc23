"""Pydantic models at the detector's edges: a carer window as the visits API will send it."""

from __future__ import annotations

from datetime import datetime
from typing import Self
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator


class CarerWindowIn(BaseModel):
    """A time in which a carer is with the resident: excluded from the baseline, and it suppresses the
    alerts the carer's own presence would cause."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    home_id: UUID
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    source: str = Field(default="api", min_length=1, max_length=40)
    note: str = Field(default="", max_length=500)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self

    @property
    def span(self) -> tuple[datetime, datetime]:
        """(starts_at, ends_at)."""
        return self.starts_at, self.ends_at
