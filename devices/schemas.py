"""Pydantic models at the registry API's edge: devices, their credentials and health (the MQTT contract's
models are in devices/contract.py)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, StringConstraints

from kernel.strict import EnumValue, RequestBody, at_most_as_sent

# --- The registry's edge: what the API accepts and returns for devices ---


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


# Examples for the OpenAPI document: Mrs Okafor's home, its pendant and kitchen motion sensor.
_HOME = "a1b2c3d4-e5f6-4711-8899-aabbccddeeff"
_DEVICE = "5e8a1f2b-7c3d-4e9f-a0b1-c2d3e4f5a6b7"
_MOTION = "9c4d2e1f-3a5b-4c7d-8e9f-0a1b2c3d4e5f"
_HEALTH: dict[str, Any] = {
    "device_id": _MOTION,
    "home_id": _HOME,
    "type": "motion_sensor",
    "room": "kitchen",
    "status": "active",
    "heartbeat_interval_s": 3600,
    "online": True,
    "offline_reason": None,
    "last_seen_at": "2026-11-02T08:55:12Z",
    "last_event_at": "2026-11-02T08:41:30Z",
    "battery_pct": 87,
    "rssi_dbm": -61,
    "firmware": "2.4.1",
    "uptime_s": 1209600,
    "low_battery": False,
}
_OFFLINE_PENDANT: dict[str, Any] = {
    **_HEALTH,
    "device_id": _DEVICE,
    "type": "pendant",
    "room": "",
    "heartbeat_interval_s": 900,
    "online": False,
    "offline_reason": "disconnected",
    "last_seen_at": "2026-11-01T22:14:03Z",
    "last_event_at": "2026-11-01T19:02:47Z",
    "battery_pct": 9,
    "rssi_dbm": -84,
    "firmware": "1.7.0",
    "uptime_s": 86400,
    "low_battery": True,
}
Short = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100), at_most_as_sent(100)]


class DeviceIn(RequestBody):
    """A device to register in a home."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"type": "pendant", "model": "CareCall P2", "room": "", "firmware": "1.7.0"},
                {"type": "motion_sensor", "model": "PIR-300", "room": "kitchen", "firmware": "2.4.1"},
            ]
        },
    )
    type: EnumValue[DeviceType]
    model: Short = ""
    room: Short = ""
    firmware: Short = ""


class DeviceOut(BaseModel):
    """A registered device."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": _MOTION,
                    "home_id": _HOME,
                    "type": "motion_sensor",
                    "model": "PIR-300",
                    "room": "kitchen",
                    "installed_on": "2026-01-05",
                    "firmware": "2.4.1",
                    "status": "active",
                    "mqtt_username": _MOTION,
                }
            ]
        }
    )

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

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "device_id": _DEVICE,
                    "home_id": _HOME,
                    "username": _DEVICE,
                    "password": "q7Zt2mWcR9vXk4LpHs8YbN3e",
                    "client_id": _DEVICE,
                    "publish_topic": f"telecare/v1/{_HOME}/{_DEVICE}/+",
                    "command_topic": f"telecare/v1/{_HOME}/{_DEVICE}/cmd",
                }
            ]
        }
    )

    device_id: UUID
    home_id: UUID
    username: str
    password: str
    client_id: str
    publish_topic: str
    command_topic: str


class DeviceHealthOut(BaseModel):
    """A device and how it is doing."""

    model_config = ConfigDict(json_schema_extra={"examples": [_HEALTH, _OFFLINE_PENDANT]})

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
