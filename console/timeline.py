"""A resident's day as one timeline, 04:00 to 04:00 on the home's clock (as the detector counts days):
activity per room as bands, in bed and out of the house as spans, carer visits as shaded spans, alerts as
markers. Pure: readings and alerts in, positions (percent of the day) out; the template draws them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from anomaly.config import DetectorConfig
from anomaly.model import Device

DAY_START = time(int(DetectorConfig().day_start_min // 60), int(DetectorConfig().day_start_min % 60))
BIN_S = 600  # activity is shown in ten-minute bins: finer is noise at a phone's width
# Read this far before the day too: a night in bed or an outing that began before 04:00 is drawn from it.
LOOK_BACK = timedelta(hours=14)
OUT_AFTER_S = DetectorConfig().out_after_door_s
ACTIVITY_KINDS = ["motion", "contact", "occupancy", "flush", "power"]
_PERSON_ROLES = frozenset({"motion", "door", "front_door", "flush", "activity", "plug", "chair"})


@dataclass(frozen=True, slots=True)
class Span:
    """A stretch of the day, in percent of it from its start, and what to call it."""

    left: float
    width: float
    start: datetime
    end: datetime
    label: str = ""
    verdict: str = ""


@dataclass(frozen=True, slots=True)
class Band:
    """One room's activity: the bins in which anything there moved, opened or was used."""

    room: str
    spans: list[Span]


@dataclass(frozen=True, slots=True)
class Marker:
    """An alert at its time on the day."""

    left: float
    at: datetime
    alert_id: UUID
    title: str
    explanation: str
    severity: str
    status: str


@dataclass(frozen=True, slots=True)
class Tick:
    """An hour label on the axis."""

    left: float
    label: str


@dataclass(frozen=True, slots=True)
class Timeline:
    """Everything drawn for one day of a home."""

    day: date
    start: datetime
    end: datetime
    bands: list[Band]
    in_bed: list[Span]
    out: list[Span]
    visits: list[Span]
    markers: list[Marker]
    ticks: list[Tick]
    readings: int


@dataclass(frozen=True, slots=True)
class Visit:
    """A carer visit as the timeline shows it (filled from the visits work when it exists)."""

    start: datetime
    end: datetime
    label: str
    verdict: str


def day_bounds(day: date, tz: str) -> tuple[datetime, datetime]:
    """The start and end of the home's day `day` (04:00 to 04:00 local; 23 or 25 hours across DST)."""
    zone = ZoneInfo(tz)
    # In UTC: arithmetic on datetimes of one ZoneInfo is wall-clock arithmetic, wrong across DST.
    start = datetime.combine(day, DAY_START, zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), DAY_START, zone).astimezone(UTC)
    return start, end


def home_day(now: datetime, tz: str) -> date:
    """The home's day that `now` falls in (before 04:00 it is still the previous day)."""
    local = now.astimezone(ZoneInfo(tz))
    return (local - timedelta(hours=DAY_START.hour, minutes=DAY_START.minute)).date()


class _Scale:
    def __init__(self, start: datetime, end: datetime) -> None:
        self.start, self.end = start, end
        self.length = (end - start).total_seconds()

    def pct(self, at: datetime) -> float:
        return round(max(0.0, min(100.0, (at - self.start).total_seconds() / self.length * 100)), 3)

    def span(self, start: datetime, end: datetime, **labels: str) -> Span:
        start = max(start, self.start)
        left = self.pct(start)
        return Span(left, max(0.2, round(self.pct(end) - left, 3)), start, end, **labels)


def build(
    day: date,
    tz: str,
    readings: Sequence[Any],
    alerts: Iterable[Any],
    *,
    visits: Iterable[Visit] = (),
    now: datetime | None = None,
) -> Timeline:
    """The day's timeline from its readings (time, kind, value, device_id, room, type, role, oldest
    first, from LOOK_BACK before the day) and alerts; spans still going on end at `now` (or the day's end)."""
    start, end = day_bounds(day, tz)
    scale = _Scale(start, end)
    until = min(end, now) if now is not None else end
    roles: dict[Any, str] = {}
    for r in readings:
        if r["device_id"] not in roles:
            roles[r["device_id"]] = _role(r)
    return Timeline(
        day=day,
        start=start,
        end=end,
        bands=_bands(readings, roles, scale),
        in_bed=_in_bed(readings, roles, scale, until),
        out=_out(readings, roles, scale, until),
        visits=[scale.span(v.start, v.end, label=v.label, verdict=v.verdict) for v in visits],
        markers=[_marker(a, scale) for a in alerts if start <= a["triggered_at"] < end],
        ticks=_ticks(scale, tz),
        readings=sum(1 for r in readings if r["time"] >= start),
    )


def _role(r: Any) -> str:
    return Device(r["device_id"], r["device_id"], r["type"], r["room"] or "", r["role"] or "").role


def _active(r: Any, role: str) -> bool:
    if role not in _PERSON_ROLES:
        return False
    if r["kind"] == "motion":
        return bool(r["value"])
    if r["kind"] == "power":
        return (r["value"] or 0.0) > 5.0
    return True


def _bands(readings: Sequence[Any], roles: dict[Any, str], scale: _Scale) -> list[Band]:
    bins: dict[str, set[int]] = {}
    start = scale.start.timestamp()
    for r in readings:
        at = r["time"]
        if at >= scale.start and _active(r, roles[r["device_id"]]):
            room = r["room"] or "elsewhere"
            bins.setdefault(room, set()).add(int((at.timestamp() - start) // BIN_S))
    bands = []
    for room in sorted(bins):
        spans = []
        for first, last in _runs(sorted(bins[room])):
            s = scale.start + timedelta(seconds=first * BIN_S)
            spans.append(scale.span(s, s + timedelta(seconds=(last - first + 1) * BIN_S)))
        bands.append(Band(room.replace("_", " "), spans))
    return bands


def _runs(numbers: list[int]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for n in numbers:
        if runs and n == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], n)
        else:
            runs.append((n, n))
    return runs


def _in_bed(readings: Sequence[Any], roles: dict[Any, str], scale: _Scale, until: datetime) -> list[Span]:
    spans, since = [], None
    for r in readings:
        if roles[r["device_id"]] != "bed" or r["kind"] != "occupancy":
            continue
        if r["value"] and since is None:
            since = r["time"]
        elif not r["value"] and since is not None:
            if r["time"] > scale.start:
                spans.append(scale.span(since, r["time"], label="in bed"))
            since = None
    if since is not None and since < until:
        spans.append(scale.span(since, until, label="in bed"))
    return spans


def _out(readings: Sequence[Any], roles: dict[Any, str], scale: _Scale, until: datetime) -> list[Span]:
    """Out of the house: the front door was used, and nothing moved inside until it was used again."""
    spans, door = [], None
    moved = True
    for r in readings:
        role = roles[r["device_id"]]
        if role == "front_door" and r["kind"] == "contact":
            away = door is not None and not moved and (r["time"] - door).total_seconds() > OUT_AFTER_S
            if away and door is not None and r["time"] > scale.start:
                spans.append(scale.span(door, r["time"], label="out"))
            door, moved = r["time"], False
        elif door is not None and _active(r, role) and (r["time"] - door).total_seconds() > OUT_AFTER_S:
            moved = True
    if door is not None and not moved and (until - door).total_seconds() > OUT_AFTER_S:
        spans.append(scale.span(door, until, label="out"))
    return spans


def _marker(alert: Any, scale: _Scale) -> Marker:
    return Marker(
        left=scale.pct(alert["triggered_at"]),
        at=alert["triggered_at"],
        alert_id=alert["id"],
        title=alert["title"],
        explanation=alert["explanation"],
        severity=alert["severity"],
        status=alert["status"],
    )


def _ticks(scale: _Scale, tz: str) -> list[Tick]:
    zone, ticks = ZoneInfo(tz), []
    at = scale.start
    while at <= scale.end:
        ticks.append(Tick(scale.pct(at), at.astimezone(zone).strftime("%H")))
        at += timedelta(hours=4)
    return ticks
