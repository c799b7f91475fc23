"""Replay of recorded event logs in the plain format of public smart-home data sets.

One event a line: date, time, sensor id, value; for example `2011-11-28 02:27:59 M003 ON`
(fractional seconds allowed, and any further columns such as activity labels are ignored). A mapping
file (JSON) says what each sensor id is:

    {"M003": {"key": "motion-bedroom", "type": "motion_sensor", "room": "bedroom"},
     "D001": {"key": "door-front", "type": "door_contact", "room": "hallway"},
     "T001": {"key": "temp-lounge", "type": "temperature_sensor", "room": "lounge"}}

Times in the log are the home's local time. Replays can be shifted to start at another moment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from devices.contract import MessageKind
from simulators.layouts import DeviceSpec
from simulators.model import HomeStream, SimEvent

_KIND_BY_TYPE = {
    "motion_sensor": MessageKind.MOTION,
    "door_contact": MessageKind.CONTACT,
    "bed_sensor": MessageKind.OCCUPANCY,
    "chair_sensor": MessageKind.OCCUPANCY,
    "temperature_sensor": MessageKind.TEMPERATURE,
    "smart_plug": MessageKind.POWER,
    "water_sensor": MessageKind.WATER_LEAK,
    "smoke_detector": MessageKind.SMOKE,
    "flush_sensor": MessageKind.FLUSH,
}
_ON = {"ON", "OPEN", "TRUE", "1", "PRESENT", "OCCUPIED"}
_OFF = {"OFF", "CLOSE", "CLOSED", "FALSE", "0", "ABSENT", "EMPTY"}
_FIELD = {
    MessageKind.MOTION: "detected",
    MessageKind.CONTACT: "open",
    MessageKind.OCCUPANCY: "occupied",
    MessageKind.WATER_LEAK: "leak",
    MessageKind.SMOKE: "alarm",
}


class ReplayError(ValueError):
    """A log line or the mapping cannot be understood; the message names the line."""


@dataclass(frozen=True, slots=True)
class Mapping:
    """Sensor id -> the device it stands for."""

    specs: dict[str, DeviceSpec]

    @classmethod
    def load(cls, path: Path) -> Mapping:
        """Read a mapping file."""
        raw: dict[str, dict[str, Any]] = orjson.loads(path.read_bytes())
        specs = {}
        for sensor, entry in raw.items():
            if entry.get("type") not in _KIND_BY_TYPE:
                raise ReplayError(f"mapping for {sensor}: type must be one of {', '.join(_KIND_BY_TYPE)}")
            specs[sensor] = DeviceSpec(
                key=entry.get("key", sensor.lower()), type=entry["type"], room=entry.get("room", "")
            )
        return cls(specs)


def parse_line(
    line: str, number: int, mapping: Mapping, tz: ZoneInfo
) -> tuple[datetime, DeviceSpec, dict[str, Any]] | None:
    """One log line as (UTC time, device, payload fields); None for blank lines and unmapped sensors."""
    parts = line.split()
    if not parts:
        return None
    if len(parts) < 4:
        raise ReplayError(f"line {number}: expected 'date time sensor value', got {line.strip()!r}")
    try:
        local = datetime.fromisoformat(f"{parts[0]} {parts[1]}")
    except ValueError as exc:
        raise ReplayError(f"line {number}: bad date or time {parts[0]} {parts[1]!r}") from exc
    spec = mapping.specs.get(parts[2])
    if spec is None:
        return None
    return local.replace(tzinfo=tz).astimezone(ZoneInfo("UTC")), spec, _fields(spec, parts[3], number)


def _fields(spec: DeviceSpec, value: str, number: int) -> dict[str, Any]:
    kind = _KIND_BY_TYPE[spec.type]
    if kind in _FIELD:
        if value.upper() not in _ON | _OFF:
            raise ReplayError(f"line {number}: {spec.key} expects ON/OFF or OPEN/CLOSE, got {value!r}")
        return {_FIELD[kind]: value.upper() in _ON}
    if kind is MessageKind.FLUSH:
        return {}
    try:
        number_value = float(value)
    except ValueError as exc:
        raise ReplayError(f"line {number}: {spec.key} expects a number, got {value!r}") from exc
    return {"celsius": number_value} if kind is MessageKind.TEMPERATURE else {"watts": max(number_value, 0.0)}


def load_replay(
    log_path: Path,
    mapping: Mapping,
    *,
    home_name: str,
    tz: str = "Europe/London",
    start: datetime | None = None,
) -> tuple[HomeStream, list[DeviceSpec]]:
    """Turn a log into a stream (shifted so it begins at `start`, if given) and the devices it needs."""
    zone = ZoneInfo(tz)
    rows = []
    with log_path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            parsed = parse_line(line, number, mapping, zone)
            if parsed is not None:
                rows.append(parsed)
    rows.sort(key=lambda row: row[0])
    shift = (start - rows[0][0]) if (start and rows) else timedelta(0)
    seqs: dict[str, int] = {}
    events = []
    for at, spec, fields in rows:
        seqs[spec.key] = seqs.get(spec.key, 0) + 1
        events.append(
            SimEvent(
                at=at + shift,
                device_key=spec.key,
                kind=_KIND_BY_TYPE[spec.type],
                fields=fields,
                seq=seqs[spec.key],
            )
        )
    used = {e.device_key for e in events}
    specs = [s for s in {s.key: s for s in mapping.specs.values()}.values() if s.key in used]
    first = events[0].at.date() if events else datetime.now(zone).date()
    stream = HomeStream(
        home_name=home_name,
        layout="replay",
        profile="replay",
        events=events,
        incidents=[],
        visits=[],
        tz=tz,
        start=first,
        days=1,
    )
    return stream, specs
