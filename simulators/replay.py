"""Replay of recorded event logs from real homes: one's own, or public smart-home data sets.

Two log formats. `lines`: one event a line, local date and time, sensor id, value, for example
`2011-11-28 02:27:59 M003 ON` (fractional seconds allowed, further columns ignored). `tl`: tab-separated
`start_epoch_s  duration_s  sensor_id`, one activation a line (UTC; ON at the start, OFF at its end), the
format of the TL reformatting of the van Kasteren and MIT PlaceLab homes.

The mapping (JSON) names the home, its time zone and what each sensor id is; see README "Replay one's
own log". The older flat form (`{"M003": {"key": ..., "type": ..., "room": ...}}`) still loads.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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
# A mapping's role: what the sensor tells about the resident. Room names as roles set the room.
ROLES = frozenset({"front_door", "door", "bed", "chair", "motion", "plug", "flush", "activity"})
ROOM_ROLES = frozenset({"bathroom", "kitchen", "bedroom", "lounge", "hallway"})
ALIASES = {"toilet_flush": "flush", "toilet": "bathroom", "living_room": "lounge"}
VALUES = frozenset({"auto", "on_off", "numeric", "pulse"})
FLUSH_MERGE_S = 60.0  # both lines (or both sensors) of one flush within this are one flush


class ReplayError(ValueError):
    """A log line or the mapping cannot be understood; the message names the line or the sensor."""


@dataclass(frozen=True, slots=True)
class Sensor:
    """What one sensor id of the log stands for: a device key, type, room, role and value form."""

    key: str
    type: str
    room: str
    role: str = ""  # "" = what the type implies (anomaly.model.Device.role)
    values: str = "auto"  # on_off, numeric, pulse (a press, never an OFF), auto = by the type
    event_only: bool = True  # sends only events, no heartbeats: its silence is never "offline"
    on_watts: float = 1000.0  # a plug logged as ON/OFF: the power it stands for when ON
    on_above: float = 0.0  # a numeric value for an on/off kind (a mat's pressure, a PIR's 1.0): on above it

    @property
    def kind(self) -> str:
        """The message kind the sensor reports."""
        return _KIND_BY_TYPE[self.type].value

    @property
    def spec(self) -> DeviceSpec:
        """The device to provision for it."""
        return DeviceSpec(key=self.key, type=self.type, room=self.room)


@dataclass(frozen=True, slots=True)
class Mapping:
    """A replayed home: its name, time zone and sensors (id -> sensor; several ids may share a key)."""

    sensors: dict[str, Sensor]
    home: str = ""
    tz: str = "Europe/London"

    @classmethod
    def load(cls, path: Path) -> Mapping:
        """Read a mapping file."""
        try:
            raw: dict[str, Any] = orjson.loads(path.read_bytes())
        except orjson.JSONDecodeError as exc:
            raise ReplayError(f"mapping {path}: not JSON ({exc})") from exc
        return cls.parse(raw)

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> Mapping:
        """A mapping from its JSON form (the flat older form too)."""
        entries = raw.get("sensors", raw if "sensors" not in raw and "timezone" not in raw else {})
        tz = str(raw.get("timezone", "Europe/London"))
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ReplayError(f"mapping: unknown time zone {tz!r}") from exc
        default_event_only = bool(raw.get("event_only", True))
        sensors = {
            str(sensor): _sensor(str(sensor), entry, default_event_only) for sensor, entry in entries.items()
        }
        return cls(sensors, str(raw.get("home", "")), tz)

    @property
    def specs(self) -> list[DeviceSpec]:
        """The devices the home needs, one per key."""
        return list({s.key: s.spec for s in self.sensors.values()}.values())

    def by_key(self) -> dict[str, Sensor]:
        """One sensor per device key (the first id mapped to it)."""
        out: dict[str, Sensor] = {}
        for sensor in self.sensors.values():
            out.setdefault(sensor.key, sensor)
        return out


def _sensor(sensor: str, entry: Any, event_only: bool) -> Sensor:
    if not isinstance(entry, dict) or entry.get("type") not in _KIND_BY_TYPE:
        raise ReplayError(f"mapping for {sensor}: type must be one of {', '.join(_KIND_BY_TYPE)}")
    room = str(entry.get("room", ""))
    role = ALIASES.get(str(entry.get("role", "")), str(entry.get("role", "")))
    if role in ROOM_ROLES:
        room, role = room or role, ""
    elif role and role not in ROLES:
        allowed = ", ".join(sorted(ROLES | ROOM_ROLES | set(ALIASES)))
        raise ReplayError(f"mapping for {sensor}: role {role!r} is not one of {allowed}")
    values = str(entry.get("values", "auto"))
    if values not in VALUES:
        raise ReplayError(f"mapping for {sensor}: values must be one of {', '.join(sorted(VALUES))}")
    return Sensor(
        key=str(entry.get("key", sensor.lower())),
        type=entry["type"],
        room=ALIASES.get(room, room),
        role=role,
        values=values,
        event_only=bool(entry.get("event_only", event_only)),
        on_watts=float(entry.get("on_watts", 1000.0)),
        on_above=float(entry.get("on_above", 0.0)),
    )


@dataclass(frozen=True, slots=True)
class Row:
    """One understood log event: UTC time, the sensor, and the payload fields."""

    at: datetime
    sensor: Sensor
    fields: dict[str, Any]


def parse_line(line: str, number: int, mapping: Mapping, tz: ZoneInfo) -> Row | None:
    """One `lines` log line; None for blank lines, unmapped sensors and values that are no event."""
    parts = line.split()
    if not parts:
        return None
    if len(parts) < 4:
        raise ReplayError(f"line {number}: expected 'date time sensor value', got {line.strip()!r}")
    try:
        local = datetime.fromisoformat(f"{parts[0]} {parts[1]}")
    except ValueError as exc:
        raise ReplayError(f"line {number}: bad date or time {parts[0]} {parts[1]!r}") from exc
    sensor = mapping.sensors.get(parts[2])
    if sensor is None:
        return None
    fields = _fields(sensor, parts[3], number)
    return None if fields is None else Row(local.replace(tzinfo=tz).astimezone(UTC), sensor, fields)


def _tl_rows(line: str, number: int, mapping: Mapping) -> Iterator[Row]:
    """One `tl` activation: ON at its start and OFF at its end (a pulse or a flush: the start only)."""
    parts = line.split()
    if not parts:
        return
    if len(parts) < 3:
        raise ReplayError(f"line {number}: expected 'start duration sensor', got {line.strip()!r}")
    sensor = mapping.sensors.get(parts[2])
    if sensor is None:
        return
    try:
        start, length = float(parts[0]), float(parts[1])
    except ValueError as exc:
        raise ReplayError(f"line {number}: start and duration must be seconds, got {line.strip()!r}") from exc
    at = datetime.fromtimestamp(start, UTC)
    for moment, value in ((at, "ON"), (at + timedelta(seconds=max(length, 1.0)), "OFF")):
        fields = _fields(sensor, value, number)
        if fields is not None:
            yield Row(moment, sensor, fields)


def _fields(sensor: Sensor, value: str, number: int) -> dict[str, Any] | None:
    kind = _KIND_BY_TYPE[sensor.type]
    word = value.upper()
    if kind is MessageKind.FLUSH:
        return None if word in _OFF else {}  # the OFF line of a flush is the same flush
    if kind in _FIELD:
        on = word in _ON if word in _ON | _OFF else _number(sensor, value, number) > sensor.on_above
        if sensor.values == "pulse" and not on:
            return None
        return {_FIELD[kind]: on}
    if kind is MessageKind.TEMPERATURE:
        return {"celsius": _number(sensor, value, number, on_off=False)}
    if word in _ON | _OFF and sensor.values != "numeric":
        return {"watts": sensor.on_watts if word in _ON else 0.0}
    return {"watts": max(_number(sensor, value, number), 0.0)}


def _number(sensor: Sensor, value: str, number: int, *, on_off: bool = True) -> float:
    try:
        return float(value)
    except ValueError as exc:
        expected = "a number or ON/OFF" if on_off else "a number"
        raise ReplayError(f"line {number}: {sensor.key} expects {expected}, got {value!r}") from exc


def read_rows(log_path: Path, mapping: Mapping, *, fmt: str = "lines") -> list[Row]:
    """Every understood event of a log, in time order, one flush per flush."""
    zone = ZoneInfo(mapping.tz)
    rows: list[Row] = []
    with log_path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if fmt == "tl":
                rows.extend(_tl_rows(line, number, mapping))
            elif fmt == "lines":
                parsed = parse_line(line, number, mapping, zone)
                if parsed is not None:
                    rows.append(parsed)
            else:
                raise ReplayError(f"unknown log format {fmt!r} (lines or tl)")
    rows.sort(key=lambda row: row.at)
    return _one_flush_each(rows)


def _one_flush_each(rows: list[Row]) -> list[Row]:
    last: dict[str, datetime] = {}
    out = []
    for row in rows:
        if row.sensor.type == "flush_sensor":
            before = last.get(row.sensor.key)
            last[row.sensor.key] = row.at
            if before is not None and (row.at - before).total_seconds() < FLUSH_MERGE_S:
                continue
        out.append(row)
    return out


def weeks_to_recent(last: datetime, now: datetime) -> int:
    """Whole weeks to move a log by so it ends before now (weekdays and local times kept)."""
    return max(0, (now - last).days // 7)


def shift_local(at: datetime, weeks: int, tz: ZoneInfo) -> datetime:
    """A UTC time moved by whole weeks on the home's wall clock (the same local time of day)."""
    local = at.astimezone(tz).replace(tzinfo=None) + timedelta(weeks=weeks)
    return local.replace(tzinfo=tz).astimezone(UTC)


def shift_rows(rows: list[Row], tz: str, now: datetime) -> list[Row]:
    """The rows moved by whole weeks to end before `now`, each at the same local time and weekday.

    Storage retention drops whole days of every home (a partition, a TimescaleDB chunk), so a replay
    of an old log is kept only by bringing it to recent dates; across a change of daylight saving the
    UTC gap between two rows may then differ by the hour the change moved.
    """
    if not rows:
        return []
    zone = ZoneInfo(tz)
    weeks = weeks_to_recent(rows[-1].at, now)
    if not weeks:
        return list(rows)
    return [Row(shift_local(r.at, weeks, zone), r.sensor, r.fields) for r in rows]


def replay_home_name(mapping: Mapping, stem: str, now: datetime) -> str:
    """A replay's home of its own: the mapping's name (or the log's), when, and a random tag."""
    return f"{mapping.home or stem} (replayed {now:%Y-%m-%d %H:%M:%S} #{uuid4().hex[:6]})"


def load_replay(
    log_path: Path,
    mapping: Mapping,
    *,
    home_name: str,
    start: datetime | None = None,
    fmt: str = "lines",
    recent: datetime | None = None,
) -> tuple[HomeStream, list[DeviceSpec]]:
    """A log as a stream, begun at `start` if given, else moved by whole weeks to end before `recent`."""
    rows = read_rows(log_path, mapping, fmt=fmt)
    zone = ZoneInfo(mapping.tz)
    weeks = weeks_to_recent(rows[-1].at, recent) if (rows and recent and not start) else 0
    shift = (start - rows[0].at) if (start and rows) else timedelta(0)
    seqs: dict[str, int] = {}
    events = []
    for row in rows:
        key = row.sensor.key
        seqs[key] = seqs.get(key, 0) + 1
        at = shift_local(row.at, weeks, zone) if weeks else row.at + shift
        events.append(
            SimEvent(
                at=at, device_key=key, kind=_KIND_BY_TYPE[row.sensor.type], fields=row.fields, seq=seqs[key]
            )
        )
    used = {e.device_key for e in events}
    specs = [s for s in mapping.specs if s.key in used]
    first = events[0].at.astimezone(zone).date() if events else datetime.now(zone).date()
    days = (events[-1].at - events[0].at).days + 1 if events else 1
    stream = HomeStream(
        home_name=home_name,
        layout="replay",
        profile="replay",
        events=events,
        incidents=[],
        visits=[],
        tz=mapping.tz,
        start=first,
        days=days,
    )
    return stream, specs
