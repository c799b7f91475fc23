"""Pydantic models at the homes edges: organisations, homes, residents, circles of care, carers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from accounts import examples
from kernel.strict import RequestBody, UuidText, at_most_as_sent

Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), at_most_as_sent(200)
]

# Examples for the OpenAPI document: Riverside Care and Mrs Okafor's home.
_ORG = "0b7e4c1a-3f2d-4e5b-8a9c-1d2e3f4a5b6c"
_HOME = "a1b2c3d4-e5f6-4711-8899-aabbccddeeff"
_HOME_IN: dict[str, Any] = {
    "name": "Mrs Okafor, 14 Mill Lane",
    "address": "14 Mill Lane, Riverside, RV2 4QT",
    "timezone": "Europe/London",
    "latitude": 51.4613,
    "longitude": -0.3037,
}
_HOME_OUT: dict[str, Any] = {
    "id": _HOME,
    "organisation_id": _ORG,
    **_HOME_IN,
    "created_at": "2026-01-05T09:45:00Z",
}


def _known_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {value!r}; use an IANA name such as Europe/London") from exc
    return value


class OrganisationIn(RequestBody):
    """A care-provider organisation to create."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "Riverside Care"}]})
    name: Name


class OrganisationOut(BaseModel):
    """A care-provider organisation."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"id": _ORG, "name": "Riverside Care", "created_at": "2026-01-04T16:20:00Z"}]
        }
    )

    id: UUID
    name: str
    created_at: datetime


class HomeIn(RequestBody):
    """A home to create: where it is and its time zone (routines are judged in local time)."""

    model_config = ConfigDict(json_schema_extra={"examples": [_HOME_IN]})
    name: Name
    address: Annotated[str, StringConstraints(max_length=500)] = ""
    timezone: Annotated[str, AfterValidator(_known_zone)] = "Europe/London"
    latitude: Annotated[float, Field(ge=-90, le=90)] | None = None
    longitude: Annotated[float, Field(ge=-180, le=180)] | None = None


class HomeOut(BaseModel):
    """A home."""

    model_config = ConfigDict(json_schema_extra={"examples": [_HOME_OUT]})

    id: UUID
    organisation_id: UUID
    name: str
    address: str
    timezone: str
    latitude: float | None
    longitude: float | None
    created_at: datetime


class ResidentIn(RequestBody):
    """A resident of a home."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"display_name": "Grace Okafor"}]})
    display_name: Name


class ResidentOut(BaseModel):
    """A resident of a home."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "e7f8a9b0-c1d2-4e3f-8a4b-5c6d7e8f9a0b",
                    "home_id": "a1b2c3d4-e5f6-4711-8899-aabbccddeeff",
                    "display_name": "Grace Okafor",
                    "created_at": "2026-01-05T09:50:00Z",
                }
            ]
        }
    )

    id: UUID
    home_id: UUID
    display_name: str
    created_at: datetime | None = None


class CircleIn(RequestBody):
    """Put a family member in a home's circle of care."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "user_id": "6f1c2a9e-8d4b-4c1e-9a57-2b1f3c4d5e6f",
                    "relationship": "daughter",
                    "receives_alerts": True,
                }
            ]
        },
    )

    user_id: UuidText
    relationship: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), at_most_as_sent(100)
    ]
    receives_alerts: bool = True


class CircleMemberOut(BaseModel):
    """A member of a home's circle of care."""

    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [examples.CIRCLE_MEMBER]})

    home_id: UUID
    user_id: UUID
    name: str
    email: str
    relationship: str
    receives_alerts: bool
    created_at: datetime


class CarerIn(RequestBody):
    """Assign a carer to a home."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"user_id": "6f1c2a9e-8d4b-4c1e-9a57-2b1f3c4d5e6f"}]}
    )

    user_id: UuidText


class CarerOut(BaseModel):
    """A carer assigned to a home."""

    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [examples.CARER]})

    home_id: UUID
    user_id: UUID
    name: str
    email: str
    created_at: datetime
