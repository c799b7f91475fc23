"""Visit reports as the API returns them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

_EXAMPLE_LINE: dict[str, Any] = {
    "group": "home",
    "id": "a1b2c3d4-e5f6-4711-8899-aabbccddeeff",
    "name": "Edith Clark",
    "planned": 120,
    "delivered": 117,
    "missed": 3,
    "pending": 0,
    "late": 9,
    "short": 4,
    "punctuality": 0.9231,
    "minutes_planned": 3600.0,
    "minutes_delivered": 3431.5,
    "minutes_share": 0.9532,
    "continuity": 4.0,
    "continuity_max": 4,
    "logging_compliance": 0.9744,
    "verified_by_sensors": 0.9573,
}


class ReportLineOut(BaseModel):
    """One organisation's, home's or carer's figures over the range."""

    model_config = ConfigDict(from_attributes=True)

    group: Literal["organisation", "home", "carer"]
    id: str
    name: str
    planned: int = Field(description="visits in the range, not cancelled")
    delivered: int = Field(description="visits checked in")
    missed: int = Field(description="visits whose window ended with nobody checked in")
    pending: int = Field(description="visits not yet due or under way without a check-in")
    late: int = Field(description="checked in more than 15 min after the planned start")
    short: int = Field(description="checked out below 75 % of the planned minutes")
    punctuality: float | None = Field(description="share of delivered visits not late")
    minutes_planned: float
    minutes_delivered: float = Field(description="check-in to check-out, over delivered visits")
    minutes_share: float | None = Field(description="minutes delivered / minutes planned")
    continuity: float | None = Field(
        description="distinct carers a client saw (organisation: mean over clients); a carer: clients seen"
    )
    continuity_max: int | None
    logging_compliance: float | None = Field(
        description="share of delivered visits checked in and out at the home (tag, or phone in the geofence)"
    )
    verified_by_sensors: float | None = Field(
        description="share of delivered visits verified (with or without exceptions), corroborated by sensors"
    )


class VisitReportOut(BaseModel):
    """A visit report: the range (the homes' local dates, until exclusive) and its lines."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "organisation_id": "0b7e4c1a-3f2d-4e5b-8a9c-1d2e3f4a5b6c",
                    "since": "2026-11-01",
                    "until": "2026-12-01",
                    "group": "home",
                    "generated_at": "2026-12-02T09:00:00Z",
                    "lines": [_EXAMPLE_LINE],
                }
            ]
        }
    )

    organisation_id: UUID
    since: date
    until: date
    group: Literal["organisation", "home", "carer"]
    generated_at: datetime
    lines: list[ReportLineOut]
