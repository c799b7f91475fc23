"""Message models of the device MQTT contract, version 1 (see docs/mqtt-contract.md)."""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from enum import StrEnum
from types import MappingProxyType
from typing import Annotated, Any, Literal, TypeAlias

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, WithJsonSchema
from pydantic_core import PydanticCustomError

SEQ_MAX = 2**63 - 1
# A device clock that says 1970 (or 1999) was never set; its times are useless.
EARLIEST_TS = datetime(2000, 1, 1, tzinfo=UTC)

# Full RFC 3339 date-time. re.ASCII so that \d does not also accept other scripts' digits. The offset is
# optional here only so that a naive timestamp gets its own, clearer error message.
_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))?",
    re.ASCII,
)


class MessageKind(StrEnum):
    """The last segment of a device topic: what the message reports."""

    TEMPERATURE = "temperature"
    HUMIDITY = "humidity"
    POWER = "power"
    MOTION = "motion"
    CONTACT = "contact"
    OCCUPANCY = "occupancy"
    WATER_LEAK = "water_leak"
    SMOKE = "smoke"
    FLUSH = "flush"
    ALARM = "alarm"
    FALL = "fall"
    ALARM_CANCEL = "alarm_cancel"
    TAG = "tag"
    STATUS = "status"
    HEARTBEAT = "heartbeat"
    PRESENCE = "presence"


def json_type_name(value: object) -> str:
    """Name the JSON type of a decoded JSON value, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _ts_error(detail: str) -> PydanticCustomError:
    return PydanticCustomError("bad_timestamp", detail)


def _from_rfc3339(text: str) -> datetime:
    match = _RFC3339.fullmatch(text)
    if match is None:
        raise _ts_error("not an RFC 3339 date-time such as 2025-03-14T07:42:05Z")
    year, month, day, hour, minute, second, fraction, zulu, sign, off_h, off_m = match.groups()
    if zulu is None and sign is None:
        raise _ts_error("timestamp has no timezone offset; add Z or +hh:mm")
    try:
        offset = timedelta(0) if zulu else int(sign + "1") * timedelta(hours=int(off_h), minutes=int(off_m))
        if zulu is None and int(off_m) > 59:
            raise ValueError("offset minutes out of range")
        # Python keeps microseconds only; nanosecond digits from some firmware are truncated, not rounded.
        micros = int((fraction or "").ljust(6, "0")[:6])
        return datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), micros, timezone(offset)
        )
    except (ValueError, OverflowError) as exc:
        raise _ts_error("not a real date, time or offset") from exc


def parse_timestamp(value: object) -> datetime:
    """Turn an RFC 3339 string (or an aware datetime) into an aware UTC datetime, or raise bad_timestamp."""
    if isinstance(value, datetime):
        if value.utcoffset() is None:
            raise _ts_error("timestamp has no timezone offset")
        parsed = value
    elif isinstance(value, str):
        parsed = _from_rfc3339(value)
    else:
        raise _ts_error(f"expected an RFC 3339 date-time string, got {json_type_name(value)}")
    try:
        # Normalised to UTC here so that no later conversion (ingest, database driver) can overflow.
        utc = parsed.astimezone(UTC)
    except OverflowError as exc:
        raise _ts_error("timestamp is out of the representable range") from exc
    if utc < EARLIEST_TS:
        raise _ts_error("timestamp is before the year 2000; the device clock is not set")
    return utc


Timestamp = Annotated[
    datetime,
    BeforeValidator(parse_timestamp),
    WithJsonSchema({"type": "string", "format": "date-time"}),
    Field(description="Device event time, RFC 3339 with offset or Z, year 2000 or later."),
]
Seq = Annotated[int, Field(ge=0, le=SEQ_MAX)]
# Control characters (C0, DEL and C1, Unicode's Cc) are refused because they have no business in a label
# and NUL cannot be stored in PostgreSQL text or jsonb at all.
Label = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f-\x9f]+$")]


class MessageBase(BaseModel):
    """Fields common to every device message."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)

    ts: Timestamp
    seq: Seq = Field(description="Per-device sequence number, never reused; used to drop duplicates.")
    # Not Literal[1]: pydantic's literal check would let true and 1.0 through.
    v: Annotated[int, Field(ge=1, le=1), WithJsonSchema({"type": "integer", "const": 1})] = Field(
        default=1, description="Contract version; must be 1 if present."
    )


class TemperatureMessage(MessageBase):
    """Air temperature reading."""

    kind: Literal[MessageKind.TEMPERATURE] = MessageKind.TEMPERATURE
    celsius: float = Field(ge=-40, le=85, description="Degrees Celsius.")


class HumidityMessage(MessageBase):
    """Relative humidity reading."""

    kind: Literal[MessageKind.HUMIDITY] = MessageKind.HUMIDITY
    percent: float = Field(ge=0, le=100, description="Relative humidity, percent.")


class PowerMessage(MessageBase):
    """Smart plug power draw."""

    kind: Literal[MessageKind.POWER] = MessageKind.POWER
    watts: float = Field(ge=0, description="Instantaneous power draw in watts.")
    appliance: Label | None = Field(default=None, description="What is plugged in, e.g. kettle.")


class MotionMessage(MessageBase):
    """Motion sensor state change."""

    kind: Literal[MessageKind.MOTION] = MessageKind.MOTION
    detected: bool = Field(description="True when motion started, false when it cleared.")


class ContactMessage(MessageBase):
    """Door or window contact state change."""

    kind: Literal[MessageKind.CONTACT] = MessageKind.CONTACT
    open: bool = Field(description="True when the door or window opened.")


class OccupancyMessage(MessageBase):
    """Bed or chair pressure pad state change."""

    kind: Literal[MessageKind.OCCUPANCY] = MessageKind.OCCUPANCY
    occupied: bool = Field(description="True when someone is on the pad.")


class WaterLeakMessage(MessageBase):
    """Water leak sensor state change."""

    kind: Literal[MessageKind.WATER_LEAK] = MessageKind.WATER_LEAK
    leak: bool = Field(description="True while water is detected.")


class SmokeMessage(MessageBase):
    """Smoke alarm state change."""

    kind: Literal[MessageKind.SMOKE] = MessageKind.SMOKE
    alarm: bool = Field(description="True while the smoke alarm sounds.")


class FlushMessage(MessageBase):
    """A toilet flush happened."""

    kind: Literal[MessageKind.FLUSH] = MessageKind.FLUSH


class AlarmMessage(MessageBase):
    """The wearer pressed an alarm button."""

    kind: Literal[MessageKind.ALARM] = MessageKind.ALARM
    button: Label | None = Field(default=None, description="Which button, e.g. pendant or wrist.")


class FallMessage(MessageBase):
    """The wearable detected a fall."""

    kind: Literal[MessageKind.FALL] = MessageKind.FALL
    confidence: float = Field(ge=0, le=1, description="Detector confidence, 0 to 1.")


class AlarmCancelMessage(MessageBase):
    """The wearer cancelled an alarm or fall."""

    kind: Literal[MessageKind.ALARM_CANCEL] = MessageKind.ALARM_CANCEL
    cancels_seq: Seq | None = Field(default=None, description="seq of the alarm or fall being cancelled.")


class TagMessage(MessageBase):
    """A carer's tag was tapped on the home's door reader."""

    kind: Literal[MessageKind.TAG] = MessageKind.TAG
    tag_id: Label = Field(description="Tag identifier as read, 1 to 64 characters.")


class StatusMessage(MessageBase):
    """Periodic device health report."""

    kind: Literal[MessageKind.STATUS] = MessageKind.STATUS
    battery: int | None = Field(default=None, ge=0, le=100, description="Battery percent; absent on mains.")
    rssi_dbm: int | None = Field(default=None, ge=-130, le=0, description="Radio signal strength, dBm.")
    firmware: Label = Field(description="Firmware version string.")
    uptime_s: int = Field(ge=0, le=SEQ_MAX, description="Seconds since the device booted.")


class HeartbeatMessage(MessageBase):
    """I am alive; nothing else to say."""

    kind: Literal[MessageKind.HEARTBEAT] = MessageKind.HEARTBEAT


class PresenceMessage(MessageBase):
    """Connection state: retained online on connect, offline as the MQTT last will."""

    kind: Literal[MessageKind.PRESENCE] = MessageKind.PRESENCE
    state: Literal["online", "offline"] = Field(description="online or offline.")


DeviceMessage: TypeAlias = (
    TemperatureMessage
    | HumidityMessage
    | PowerMessage
    | MotionMessage
    | ContactMessage
    | OccupancyMessage
    | WaterLeakMessage
    | SmokeMessage
    | FlushMessage
    | AlarmMessage
    | FallMessage
    | AlarmCancelMessage
    | TagMessage
    | StatusMessage
    | HeartbeatMessage
    | PresenceMessage
)

MESSAGE_MODELS: Mapping[MessageKind, type[MessageBase]] = MappingProxyType(
    {
        MessageKind.TEMPERATURE: TemperatureMessage,
        MessageKind.HUMIDITY: HumidityMessage,
        MessageKind.POWER: PowerMessage,
        MessageKind.MOTION: MotionMessage,
        MessageKind.CONTACT: ContactMessage,
        MessageKind.OCCUPANCY: OccupancyMessage,
        MessageKind.WATER_LEAK: WaterLeakMessage,
        MessageKind.SMOKE: SmokeMessage,
        MessageKind.FLUSH: FlushMessage,
        MessageKind.ALARM: AlarmMessage,
        MessageKind.FALL: FallMessage,
        MessageKind.ALARM_CANCEL: AlarmCancelMessage,
        MessageKind.TAG: TagMessage,
        MessageKind.STATUS: StatusMessage,
        MessageKind.HEARTBEAT: HeartbeatMessage,
        MessageKind.PRESENCE: PresenceMessage,
    }
)


def message_json_schemas() -> dict[str, dict[str, Any]]:
    """JSON Schema of every message kind, keyed by kind."""
    return {kind.value: MESSAGE_MODELS[kind].model_json_schema() for kind in MessageKind}


_TS = "2025-03-14T07:42:05Z"
_EXAMPLES: dict[MessageKind, dict[str, Any]] = {
    MessageKind.TEMPERATURE: {"ts": _TS, "seq": 1041, "celsius": 19.5},
    MessageKind.HUMIDITY: {"ts": _TS, "seq": 1042, "percent": 48.0},
    MessageKind.POWER: {"ts": _TS, "seq": 3310, "watts": 2850.0, "appliance": "kettle"},
    MessageKind.MOTION: {"ts": _TS, "seq": 877, "detected": True},
    MessageKind.CONTACT: {"ts": _TS, "seq": 212, "open": True},
    MessageKind.OCCUPANCY: {"ts": _TS, "seq": 95, "occupied": False},
    MessageKind.WATER_LEAK: {"ts": _TS, "seq": 7, "leak": True},
    MessageKind.SMOKE: {"ts": _TS, "seq": 12, "alarm": True},
    MessageKind.FLUSH: {"ts": _TS, "seq": 402},
    MessageKind.ALARM: {"ts": _TS, "seq": 58, "button": "pendant"},
    MessageKind.FALL: {"ts": _TS, "seq": 59, "confidence": 0.92},
    MessageKind.ALARM_CANCEL: {"ts": "2025-03-14T07:42:31Z", "seq": 60, "cancels_seq": 59},
    MessageKind.TAG: {"ts": _TS, "seq": 1530, "tag_id": "04A224B2C35E80"},
    MessageKind.STATUS: {
        "ts": _TS,
        "seq": 5120,
        "battery": 87,
        "rssi_dbm": -67,
        "firmware": "2.4.1",
        "uptime_s": 86400,
    },
    MessageKind.HEARTBEAT: {"ts": _TS, "seq": 5121},
    MessageKind.PRESENCE: {"ts": _TS, "seq": 5000, "state": "online", "v": 1},
}


def example_payloads() -> dict[str, dict[str, Any]]:
    """One valid example payload per kind, keyed by kind; a fresh copy on every call."""
    return {kind.value: copy.deepcopy(_EXAMPLES[kind]) for kind in MessageKind}
