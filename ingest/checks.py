"""The ingest worker's cheap way through the device contract, with the models' verdict whenever it matters.

Most messages are well formed, and a pydantic model costs more than everything else the worker does with
one. `check_payload` accepts here only what the models certainly accept, with the same values; anything
else (a refusal, or a form this path does not know) goes through devices.contract for its verdict and
its reason. tests/ingest/test_checks.py holds the two to the same decisions.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from devices.contract import (
    EARLIEST_TS,
    MAX_PAYLOAD_BYTES,
    SEQ_MAX,
    MessageKind,
    decode_payload,
    reading_value,
    validate_payload,
)


@dataclass(frozen=True, slots=True)
class Checked:
    """A payload that keeps the contract, reduced to what storing it needs."""

    ts: datetime
    seq: int
    value: float | None
    data: dict[str, Any]


def check_payload(kind: MessageKind, payload: bytes) -> Checked:
    """parse_payload's decision on a payload (the same ContractError if refused), cheaply when it is valid."""
    checked = _fast_check(kind, payload)
    if checked is not None:
        return checked
    data = decode_payload(payload)
    message = validate_payload(kind, data)
    return Checked(message.ts, message.seq, reading_value(message), data)


# A subset of the RFC 3339 forms the contract reads, on which datetime.fromisoformat agrees with it
# (fromisoformat alone takes forms the contract refuses, such as an offset of +01:60).
_FAST_TS = re.compile(
    r"\d{4}-\d{2}-\d{2}T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d{1,6})?(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)",
    re.ASCII,
)
Rule = Callable[[Any], bool]
ValueOf = Callable[[dict[str, Any]], float | None]


def _fast_ts(value: object) -> datetime | None:
    if type(value) is not str or _FAST_TS.fullmatch(value) is None:
        return None
    try:
        utc = datetime.fromisoformat(value).astimezone(UTC)
    except (ValueError, OverflowError):
        return None
    return utc if utc >= EARLIEST_TS else None


def _number(low: float, high: float) -> Rule:
    return lambda x: (type(x) is int or (type(x) is float and math.isfinite(x))) and low <= x <= high


def _integer(low: int, high: int) -> Rule:
    return lambda x: type(x) is int and low <= x <= high


def _optional(rule: Rule) -> Rule:
    return lambda x: x is None or rule(x)


def _is_bool(x: object) -> bool:
    return type(x) is bool


def _is_label(x: object) -> bool:
    # isprintable() is False for every control character (and for a few other characters: those go
    # the slow way, which decides).
    return type(x) is str and 0 < len(x) <= 64 and x.isprintable()


def _flag(name: str) -> ValueOf:
    return lambda d: 1.0 if d[name] else 0.0


def _number_of(name: str) -> ValueOf:
    return lambda d: None if d.get(name) is None else float(d[name])


def _constant(value: float | None) -> ValueOf:
    return lambda _d: value


_SEQ = _integer(0, SEQ_MAX)
# kind -> ({field: (rule, required)}, the reading's value); ts, seq, v and kind are added below.
FAST_FIELDS: dict[MessageKind, tuple[dict[str, tuple[Rule, bool]], ValueOf]] = {
    MessageKind.TEMPERATURE: ({"celsius": (_number(-40, 85), True)}, _number_of("celsius")),
    MessageKind.HUMIDITY: ({"percent": (_number(0, 100), True)}, _number_of("percent")),
    MessageKind.POWER: (
        {"watts": (_number(0, math.inf), True), "appliance": (_optional(_is_label), False)},
        _number_of("watts"),
    ),
    MessageKind.MOTION: ({"detected": (_is_bool, True)}, _flag("detected")),
    MessageKind.CONTACT: ({"open": (_is_bool, True)}, _flag("open")),
    MessageKind.OCCUPANCY: ({"occupied": (_is_bool, True)}, _flag("occupied")),
    MessageKind.WATER_LEAK: ({"leak": (_is_bool, True)}, _flag("leak")),
    MessageKind.SMOKE: ({"alarm": (_is_bool, True)}, _flag("alarm")),
    MessageKind.FLUSH: ({}, _constant(1.0)),
    MessageKind.ALARM: ({"button": (_optional(_is_label), False)}, _constant(1.0)),
    MessageKind.FALL: ({"confidence": (_number(0, 1), True)}, _number_of("confidence")),
    MessageKind.ALARM_CANCEL: ({"cancels_seq": (_optional(_SEQ), False)}, _constant(1.0)),
    MessageKind.TAG: ({"tag_id": (_is_label, True)}, _constant(None)),
    MessageKind.STATUS: (
        {
            "battery": (_optional(_integer(0, 100)), False),
            "rssi_dbm": (_optional(_integer(-130, 0)), False),
            "firmware": (_is_label, True),
            "uptime_s": (_integer(0, SEQ_MAX), True),
        },
        _number_of("battery"),
    ),
    MessageKind.HEARTBEAT: ({}, _constant(None)),
    MessageKind.PRESENCE: (
        {"state": (lambda x: x == "online" or x == "offline", True)},
        lambda d: 1.0 if d["state"] == "online" else 0.0,
    ),
}


def _common(kind: MessageKind) -> dict[str, tuple[Rule, bool]]:
    return {
        "ts": (lambda _x: True, True),  # parsed on its own, below
        "seq": (_SEQ, True),
        "v": (lambda x: type(x) is int and x == 1, False),
        "kind": (lambda x: type(x) is str and x == kind.value, False),
    }


for _kind, (_fields, _) in FAST_FIELDS.items():
    _fields.update(_common(_kind))
_REQUIRED = {
    kind: sum(required for _, required in fields.values()) for kind, (fields, _) in FAST_FIELDS.items()
}


def _fast_check(kind: MessageKind, payload: bytes) -> Checked | None:
    """The checked payload if it is certainly valid; None when the models must decide."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        return None
    try:
        payload.decode("utf-8")
        data = orjson.loads(payload)
    except (UnicodeDecodeError, orjson.JSONDecodeError):
        return None
    return _fast_fields(kind, data) if type(data) is dict else None


def check_data(kind: MessageKind, data: dict[str, Any]) -> Checked:
    """check_payload's decision on a payload already decoded (a hub batch's item, without device_id)."""
    checked = _fast_fields(kind, data)
    if checked is not None:
        return checked
    message = validate_payload(kind, data)
    return Checked(message.ts, message.seq, reading_value(message), data)


def _fast_fields(kind: MessageKind, data: dict[str, Any]) -> Checked | None:
    fields, value_of = FAST_FIELDS[kind]
    required = 0
    for name, x in data.items():
        rule = fields.get(name)
        if rule is None or not rule[0](x):
            return None
        required += rule[1]
    ts = _fast_ts(data.get("ts"))
    if required != _REQUIRED[kind] or ts is None:
        return None
    return Checked(ts, data["seq"], value_of(data), data)
