"""The device MQTT contract, version 1.1: topics, payload parsing and the reasons for refusing them.

The one module that exports the device messages' contract: other packages import its names from here
(the message models themselves are defined in devices/messages.py; the home hubs' batches, added in
1.1, in devices/hubs.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, cast
from uuid import UUID

import orjson
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from devices.messages import (
    EARLIEST_TS,
    MESSAGE_MODELS,
    SEQ_MAX,
    AlarmCancelMessage,
    AlarmMessage,
    ContactMessage,
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
    WaterLeakMessage,
    example_payloads,
    json_type_name,
    message_json_schemas,
)

__all__ = [
    "CONTRACT_ERROR_REASONS",
    "CONTRACT_VERSION",
    "CONTRACT_VERSION_SEGMENT",
    "EARLIEST_TS",
    "MAX_PAYLOAD_BYTES",
    "MESSAGE_MODELS",
    "PRIORITY_KINDS",
    "SEQ_MAX",
    "AlarmCancelMessage",
    "AlarmMessage",
    "ContactMessage",
    "ContractError",
    "DeviceMessage",
    "FallMessage",
    "FlushMessage",
    "HeartbeatMessage",
    "HumidityMessage",
    "MessageBase",
    "MessageKind",
    "MotionMessage",
    "OccupancyMessage",
    "PowerMessage",
    "PresenceMessage",
    "SmokeMessage",
    "StatusMessage",
    "TagMessage",
    "TemperatureMessage",
    "TopicAddress",
    "WaterLeakMessage",
    "check_root",
    "command_topic",
    "decode_payload",
    "example_payloads",
    "message_json_schemas",
    "message_topic",
    "parse_id",
    "parse_kind",
    "parse_payload",
    "parse_topic",
    "reading_value",
    "show",
    "validate_payload",
]

MAX_PAYLOAD_BYTES = 65536
# Major version 1 (the topic segment and the payloads' `v`); minor 1 added home hubs (devices/hubs.py):
# new topics and a new device type only, so every message of a 1.0 device means what it meant.
CONTRACT_VERSION = "1.1"
CONTRACT_VERSION_SEGMENT = "v1"
COMMAND_SEGMENT = "cmd"

CONTRACT_ERROR_REASONS: frozenset[str] = frozenset(
    {
        "too_large",
        "not_utf8",
        "invalid_json",
        "not_object",
        "unknown_kind",
        "missing_field",
        "wrong_type",
        "out_of_range",
        "unknown_field",
        "bad_timestamp",
        "bad_topic",
        "bad_version",
        "kind_mismatch",
    }
)

PRIORITY_KINDS: frozenset[MessageKind] = frozenset(
    {MessageKind.ALARM, MessageKind.FALL, MessageKind.SMOKE, MessageKind.WATER_LEAK}
)

_UUID_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_EXPECTED = {
    "float_type": "a number",
    "int_type": "an integer",
    "bool_type": "a boolean",
    "string_type": "a string",
}
_OUT_OF_RANGE = frozenset(
    {
        "greater_than",
        "greater_than_equal",
        "less_than",
        "less_than_equal",
        "finite_number",
        "string_too_short",
        "string_too_long",
        "literal_error",
    }
)


class ContractError(ValueError):
    """Raised for any payload or topic that breaks the contract."""

    def __init__(self, reason: str, message: str, field: str | None = None) -> None:
        # All three go to args so that the exception survives pickling (process pools, queues).
        super().__init__(reason, message, field)
        self.reason = reason
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True, slots=True)
class TopicAddress:
    """Who sent a message and what kind it is, as read from its topic."""

    home_id: UUID
    device_id: UUID
    kind: MessageKind


def show(value: object, limit: int = 40) -> str:
    """A short, safe rendering of an untrusted value for a reason's text."""
    # Only scalars are echoed, and briefly: the input is untrusted and may be huge or deeply nested.
    if isinstance(value, str):
        return repr(value if len(value) <= limit else value[:limit] + "...")
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json_type_name(value)


def _name(field: str, limit: int = 64) -> str:
    # A field name can be any key of the payload: cut short, and escaped unless printable, so that the
    # reason's text can be stored (PostgreSQL text takes no NUL) and read.
    text = field if len(field) <= limit else field[:limit] + "..."
    return text if text.isprintable() else text.encode("unicode_escape").decode("ascii")


def check_root(root: str) -> None:
    """ValueError unless root is a usable topic root (no wildcards, no empty segments)."""
    if not root or "+" in root or "#" in root or any(not part for part in root.split("/")):
        raise ValueError(f"invalid MQTT topic root {root!r}")


def message_topic(root: str, home_id: UUID, device_id: UUID, kind: MessageKind) -> str:
    """Topic a device publishes messages of one kind on."""
    check_root(root)
    return f"{root}/{CONTRACT_VERSION_SEGMENT}/{home_id}/{device_id}/{MessageKind(kind).value}"


def command_topic(root: str, home_id: UUID, device_id: UUID) -> str:
    """Topic a device subscribes to for commands from the backend."""
    check_root(root)
    return f"{root}/{CONTRACT_VERSION_SEGMENT}/{home_id}/{device_id}/{COMMAND_SEGMENT}"


def parse_id(text: str, name: str) -> UUID:
    """A topic's (or a batch item's) id; ContractError unless it is a lowercase canonical UUID."""
    # Only the canonical form: otherwise one device could appear under several spellings of its id.
    if _UUID_TEXT.fullmatch(text) is None:
        raise ContractError(
            "bad_topic", f"topic segment {name} {show(text)} is not a lowercase canonical UUID"
        )
    return UUID(text)


def parse_kind(kind: object) -> MessageKind:
    """A message kind by name; ContractError (unknown_kind) otherwise."""
    if isinstance(kind, MessageKind):
        return kind
    if isinstance(kind, str):
        try:
            return MessageKind(kind)
        except ValueError:
            pass
    raise ContractError("unknown_kind", f"unknown message kind {show(kind)}")


def parse_topic(topic: str, *, root: str) -> TopicAddress:
    """Split a device message topic into home, device and kind; raise ContractError if it is malformed."""
    check_root(root)
    prefix = root + "/"
    if not topic.startswith(prefix):
        raise ContractError("bad_topic", f"topic {show(topic, 200)} is not under root {root!r}")
    parts = topic[len(prefix) :].split("/")
    if len(parts) != 4:
        raise ContractError(
            "bad_topic",
            f"topic {show(topic, 200)} does not match {root}/v1/<home_id>/<device_id>/<kind>",
        )
    version, home, device, kind = parts
    if version != CONTRACT_VERSION_SEGMENT:
        raise ContractError(
            "bad_topic", f"topic version segment {show(version)} is not supported; expected v1"
        )
    home_id = parse_id(home, "home_id")
    device_id = parse_id(device, "device_id")
    if kind == COMMAND_SEGMENT:
        raise ContractError("bad_topic", "the cmd topic carries commands to the device, not device messages")
    return TopicAddress(home_id=home_id, device_id=device_id, kind=parse_kind(kind))


def decode_payload(payload: bytes) -> dict[str, Any]:
    """The payload as a JSON object; ContractError if it is too large, not UTF-8, not JSON, not an object."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise ContractError("too_large", f"payload is {len(payload)} bytes; the limit is {MAX_PAYLOAD_BYTES}")
    try:
        bytes(payload).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ContractError(
            "not_utf8", f"payload is not valid UTF-8 (bad byte at offset {exc.start})"
        ) from exc
    if not payload:
        # An empty payload is what clears a retained message; it is still not a device message.
        raise ContractError("invalid_json", "payload is empty")
    try:
        data = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise ContractError("invalid_json", f"payload is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ContractError("not_object", f"payload must be a JSON object, got {json_type_name(data)}")
    return data


def _rank(error: ErrorDetails) -> int:
    # A wrong kind or version explains every other error in the payload, so it is reported first.
    field = error["loc"][0] if error["loc"] else None
    return {"kind": 0, "v": 1}.get(str(field), 2)


def _describe(error: ErrorDetails, kind: MessageKind) -> tuple[str, str]:
    field = _name(str(error["loc"][0])) if error["loc"] else "payload"
    etype, value = error["type"], error.get("input")
    prefix = f"field '{field}'"
    if field == "kind":
        return "kind_mismatch", f"{prefix}: payload says {show(value)} but the topic says '{kind}'"
    if field == "v":
        return "bad_version", f"{prefix}: contract version must be 1, got {show(value)}"
    if etype == "missing":
        return "missing_field", f"{prefix} is required in a '{kind}' message"
    if etype == "extra_forbidden":
        return "unknown_field", f"{prefix} is not part of the '{kind}' message"
    if etype == "bad_timestamp":
        return "bad_timestamp", f"{prefix}: {error['msg']}"
    if etype in _EXPECTED:
        return "wrong_type", f"{prefix}: expected {_EXPECTED[etype]}, got {json_type_name(value)}"
    if etype == "literal_error" and not isinstance(value, str):
        # Every literal in the contract (other than kind and v, handled above) is a string.
        return "wrong_type", f"{prefix}: expected a string, got {json_type_name(value)}"
    if etype == "string_pattern_mismatch":
        return "out_of_range", f"{prefix}: must not contain control characters"
    rule = re.sub(r"^(Input|String) should", "must", error["msg"])
    if etype in _OUT_OF_RANGE:
        return "out_of_range", f"{prefix}: {rule}, got {show(value)}"
    return "wrong_type", f"{prefix}: {rule}"


def _contract_error(exc: ValidationError, kind: MessageKind) -> ContractError:
    errors = exc.errors(include_url=False)
    first = min(errors, key=_rank)
    reason, message = _describe(first, kind)
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    return ContractError(reason, message, _name(str(first["loc"][0])) if first["loc"] else None)


def parse_payload(kind: MessageKind | str, payload: bytes) -> DeviceMessage:
    """Validate a message payload for the topic's kind; any violation raises ContractError."""
    return validate_payload(parse_kind(kind), decode_payload(payload))


def validate_payload(kind: MessageKind, data: dict[str, Any]) -> DeviceMessage:
    """Validate a decoded payload against its kind's model; any violation raises ContractError."""
    try:
        message = MESSAGE_MODELS[kind].model_validate(data)
    except ValidationError as exc:
        raise _contract_error(exc, kind) from exc
    # MESSAGE_MODELS only holds members of the DeviceMessage union; mypy cannot see that through the mapping.
    return cast("DeviceMessage", message)


def reading_value(message: DeviceMessage) -> float | None:
    """The single number stored in the readings table's value column, or None if the kind has none."""
    match message:
        case (
            TemperatureMessage(celsius=value)
            | HumidityMessage(percent=value)
            | PowerMessage(watts=value)
            | FallMessage(confidence=value)
        ):
            return value
        case (
            MotionMessage(detected=flag)
            | ContactMessage(open=flag)
            | OccupancyMessage(occupied=flag)
            | WaterLeakMessage(leak=flag)
            | SmokeMessage(alarm=flag)
        ):
            return 1.0 if flag else 0.0
        case FlushMessage() | AlarmMessage() | AlarmCancelMessage():
            return 1.0
        case StatusMessage(battery=battery):
            return None if battery is None else float(battery)
        case PresenceMessage(state=state):
            return 1.0 if state == "online" else 0.0
        case TagMessage() | HeartbeatMessage():
            return None
