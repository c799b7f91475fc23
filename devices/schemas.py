"""Pydantic models at the devices edges: the MQTT contract (from devices.contract) and the registry API."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from devices.contract import (
    CONTRACT_ERROR_REASONS,
    MAX_PAYLOAD_BYTES,
    PRIORITY_KINDS,
    AlarmCancelMessage,
    AlarmMessage,
    ContactMessage,
    ContractError,
    DeviceMessage,
    FallMessage,
    FlushMessage,
    HeartbeatMessage,
    HumidityMessage,
    MessageBase,
    MessageKind,
    MotionMessage,
    OccupancyMessage,
    PowerMessage,
    PresenceMessage,
    SmokeMessage,
    StatusMessage,
    TagMessage,
    TemperatureMessage,
    TopicAddress,
    WaterLeakMessage,
    command_topic,
    example_payloads,
    message_json_schemas,
    message_topic,
    parse_payload,
    parse_topic,
    reading_value,
)

__all__ = [
    "CONTRACT_ERROR_REASONS",
    "MAX_PAYLOAD_BYTES",
    "PRIORITY_KINDS",
    "AlarmCancelMessage",
    "AlarmMessage",
    "ContactMessage",
    "ContractError",
    "CredentialsOut",
    "DeviceHealthOut",
    "DeviceIn",
    "DeviceMessage",
    "DeviceOut",
    "DeviceType",
    "FallMessage",
    "FlushMessage",
    "HeartbeatMessage",
    "HomeIn",
    "HomeOut",
    "HumidityMessage",
    "MessageBase",
    "MessageKind",
    "MotionMessage",
    "OccupancyMessage",
    "OrganisationIn",
    "OrganisationOut",
    "PowerMessage",
    "PresenceMessage",
    "ResidentIn",
    "SmokeMessage",
    "StatusMessage",
    "TagMessage",
    "TemperatureMessage",
    "TopicAddress",
    "WaterLeakMessage",
    "command_topic",
    "example_payloads",
    "message_json_schemas",
    "message_topic",
    "parse_payload",
    "parse_topic",
    "reading_value",
]


# --- The registry's edge: what the API accepts and returns for organisations, homes and devices ---


class DeviceType(StrEnum):
    """The device types the registry knows (each with its heartbeat interval)."""

    MOTION_SENSOR = "motion_sensor"
    DOOR_CONTACT = "door_contact"
    BED_SENSOR = "bed_sensor"
    CHAIR_SENSOR = "chair_sensor"
    TEMPERATURE_SENSOR = "temperature_sensor"
    SMART_PLUG = "smart_plug"
    WATER_SENSOR = "water_sensor"
    SMOKE_DETECTOR = "smoke_detector"
    FLUSH_SENSOR = "flush_sensor"
    PENDANT = "pendant"
    WRIST_WEARABLE = "wrist_wearable"
    NFC_READER = "nfc_reader"
    HUB = "hub"


Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Short = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)]


def _known_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {value!r}; use an IANA name such as Europe/London") from exc
    return value


class OrganisationIn(BaseModel):
    """A care-provider organisation to create."""

    model_config = ConfigDict(extra="forbid")
    name: Name


class OrganisationOut(BaseModel):
    """A care-provider organisation."""

    id: UUID
    name: str
    created_at: datetime


class HomeIn(BaseModel):
    """A home to create: where it is and its time zone (routines are judged in local time)."""

    model_config = ConfigDict(extra="forbid")
    name: Name
    address: Annotated[str, StringConstraints(max_length=500)] = ""
    timezone: Annotated[str, AfterValidator(_known_zone)] = "Europe/London"
    latitude: Annotated[float, Field(ge=-90, le=90)] | None = None
    longitude: Annotated[float, Field(ge=-180, le=180)] | None = None


class HomeOut(BaseModel):
    """A home."""

    id: UUID
    organisation_id: UUID
    name: str
    address: str
    timezone: str
    latitude: float | None
    longitude: float | None
    created_at: datetime


class ResidentIn(BaseModel):
    """A resident of a home."""

    model_config = ConfigDict(extra="forbid")
    display_name: Name


class DeviceIn(BaseModel):
    """A device to register in a home."""

    model_config = ConfigDict(extra="forbid")
    type: DeviceType
    model: Short = ""
    room: Short = ""
    firmware: Short = ""


class DeviceOut(BaseModel):
    """A registered device."""

    id: UUID
    home_id: UUID
    type: str
    model: str
    room: str
    installed_on: date
    firmware: str
    status: str
    mqtt_username: str | None


class CredentialsOut(BaseModel):
    """A device's MQTT identity. The password is shown this once and is not stored by the backend."""

    device_id: UUID
    home_id: UUID
    username: str
    password: str
    client_id: str
    publish_topic: str
    command_topic: str


class DeviceHealthOut(BaseModel):
    """A device and how it is doing."""

    device_id: UUID
    home_id: UUID
    type: str
    room: str
    status: str
    heartbeat_interval_s: int
    online: bool
    offline_reason: str | None
    last_seen_at: datetime | None
    last_event_at: datetime | None
    battery_pct: int | None
    rssi_dbm: int | None
    firmware: str | None
    uptime_s: int | None
    low_battery: bool
