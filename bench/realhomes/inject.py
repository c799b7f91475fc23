"""Incidents injected into a real home's log, as the simulator injects them into its residents' days:
a silence while up and at home, the front door at night while in bed, a long stay in the bathroom, not
getting up. Each returns the changed rows and the ground-truth label; days of the first week are left
alone (they are for learning), and a label's start is when the incident begins."""

from __future__ import annotations

import random
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from simulators.model import Incident
from simulators.replay import Mapping, Row, Sensor

KINDS = ("inactivity", "night_wandering", "bathroom_long", "not_up")
OUT_LABELS = ("leave-house", "going-out")
SLEEP_LABELS = ("go-to-bed", "sleeping")


@dataclass(slots=True)
class Log:
    """A home's rows (time order), its labelled activities and mapping, for injecting incidents."""

    home: str
    mapping: Mapping
    rows: list[Row]
    labels: list[tuple[float, float, str]]

    @property
    def times(self) -> list[float]:
        """Each row's time, epoch seconds."""
        return [r.at.timestamp() for r in self.rows]

    def local(self, day: date, minute: float) -> float:
        """Epoch seconds of a local minute on a local date."""
        zone = ZoneInfo(self.mapping.tz)
        base = datetime(day.year, day.month, day.day, tzinfo=zone)
        return (base + timedelta(minutes=minute)).timestamp()

    def labelled(self, t: float, names: tuple[str, ...]) -> bool:
        """True if a label whose name starts with one of `names` covers t."""
        return any(s <= t <= e and n.startswith(names) for s, e, n in self.labels)

    def sensor(self, role: str, room: str | None = None) -> Sensor | None:
        """A sensor of this role (and room), if the home has one."""
        for s in self.mapping.by_key().values():
            if (s.role or "") == role and (room is None or s.room == room):
                return s
        return None


def _between(times: list[float], start: float, end: float) -> int:
    return bisect_left(times, end) - bisect_left(times, start)


def _awake_at_home(log: Log, times: list[float], t: float) -> bool:
    """Someone up and about: readings in the 20 minutes before and the 30 after, not labelled out."""
    return (
        _between(times, t - 1200, t) > 0
        and _between(times, t, t + 1800) > 0
        and not log.labelled(t, OUT_LABELS)
        and not log.labelled(t, SLEEP_LABELS)
    )


def _asleep(log: Log, times: list[float], t: float) -> bool:
    """In bed: labelled asleep, or nothing but bed presses for 45 minutes either side."""
    if log.labelled(t, SLEEP_LABELS):
        return True
    lo, hi = bisect_left(times, t - 2700), bisect_left(times, t + 2700)
    return all(log.rows[i].sensor.role == "bed" for i in range(lo, hi))


def _row(sensor: Sensor, t: float, **fields: object) -> Row:
    return Row(datetime.fromtimestamp(t, UTC), sensor, dict(fields))


def _without(rows: list[Row], start: float, end: float, keep: tuple[str, ...] = ()) -> list[Row]:
    return [r for r in rows if not start <= r.at.timestamp() < end or (r.sensor.role in keep)]


Fits = Callable[[Log, list[float], float], bool]


def _pick(log: Log, day: date, lo: float, hi: float, ok: Fits, rng: random.Random) -> float | None:
    times = log.times
    for _ in range(80):
        t = log.local(day, rng.uniform(lo, hi))
        if ok(log, times, t):
            return t
    return None


def silence(log: Log, day: date, rng: random.Random) -> Incident | None:
    """Unwell while up (in the chair, or wherever they were): nothing at all for 2.5 to 5 hours."""
    start = _pick(log, day, 570, 900, _awake_at_home, rng)
    if start is None:
        return None
    end = start + rng.uniform(150, 300) * 60
    log.rows = _without(log.rows, start, end)
    return _label(log, "inactivity", start, end)


def night_exit(log: Log, day: date, rng: random.Random) -> Incident | None:
    """Up in the night and out of the front door for a few minutes, then back to bed."""
    door = log.sensor("front_door")
    start = _pick(log, day + timedelta(days=1), 60, 270, _asleep, rng) if door else None
    if start is None or door is None:
        return None
    at_door = start + rng.uniform(2, 4) * 60
    back = at_door + rng.uniform(3, 20) * 60
    added = [_row(door, at_door, open=True), _row(door, at_door + 30, open=False)]
    added += [_row(door, back, open=True), _row(door, back + 20, open=False)]
    bed = log.sensor("bed")
    if bed is not None:
        added.append(_row(bed, back + 180, occupied=True))
    log.rows = sorted(_without(log.rows, start, back + 180, keep=()) + added, key=lambda r: r.at)
    return _label(log, "night_wandering", start, back + 180)


def bathroom_long(log: Log, day: date, rng: random.Random) -> Incident | None:
    """In the bathroom for well over an hour: seen going in, then nothing until they come out."""
    sensor = log.sensor("motion", "bathroom") or log.sensor("door", "bathroom")
    start = _pick(log, day, 540, 1200, _awake_at_home, rng) if sensor else None
    if start is None or sensor is None:
        return None
    end = start + rng.uniform(70, 150) * 60
    field = "detected" if sensor.role == "motion" else "open"
    added = [_row(sensor, start, **{field: True}), _row(sensor, end, **{field: True})]
    log.rows = sorted(_without(log.rows, start, end + 1) + added, key=lambda r: r.at)
    return _label(log, "bathroom_long", start, end)


def not_up(log: Log, day: date, rng: random.Random) -> Incident | None:
    """Stays in bed 2 to 4 hours past the time they got up that day; nothing else moves meanwhile."""
    times = log.times
    lo, hi = log.local(day, 300), log.local(day, 780)
    first = next(
        (r.at.timestamp() for r in log.rows[bisect_left(times, lo) :] if r.sensor.role != "bed"), None
    )
    if first is None or first > hi or not _asleep(log, times, first - 2700):
        return None
    end = first + rng.uniform(120, 240) * 60
    log.rows = _without(log.rows, first, end, keep=("bed",))
    return _label(log, "not_up", first, end)


def _label(log: Log, kind: str, start: float, end: float) -> Incident:
    return Incident(log.home, kind, datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(end, UTC))


INJECT = {
    "inactivity": silence,
    "night_wandering": night_exit,
    "bathroom_long": bathroom_long,
    "not_up": not_up,
}


def inject(log: Log, days: list[date], kinds: list[str], seed: int) -> list[Incident]:
    """One incident on each given day, of the given kind; returns the labels (skipped when no moment fits)."""
    rng = random.Random(seed)
    out = []
    for day, kind in zip(days, kinds, strict=True):
        label = INJECT[kind](log, day, rng)
        if label is not None:
            out.append(label)
    return out


def copy(log: Log) -> Log:
    """A log to inject into, leaving the clean one as it is."""
    return replace(log, rows=list(log.rows))
