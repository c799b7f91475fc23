"""The resident's day as a list of segments (where and doing what), and small tools shared by modules."""

from __future__ import annotations

import bisect
import math
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from devices.contract import MessageKind

OUT = "out"  # pseudo-room: the resident is away from home, beyond the front door


class Act(StrEnum):
    """What the resident is doing during a segment; decides which sensors fire and how often."""

    SLEEP = "sleep"
    TOILET = "toilet"
    WASH = "wash"
    DRESS = "dress"
    CHORES = "chores"
    MEAL = "meal"
    EAT = "eat"
    SIT = "sit"
    NAP = "nap"
    OUT = "out"
    GREET = "greet"  # at the front door: a visitor, carer or responder comes or goes
    VISITOR = "visitor"
    CARER = "carer"
    WANDER = "wander"
    STILL = "still"
    FALLEN = "fallen"
    BATH_LONG = "bath_long"


@dataclass(slots=True, frozen=True)
class Segment:
    """The resident is in `room` doing `activity` from start to end; bed, chair and tv give pad/plug state."""

    start: datetime
    end: datetime
    room: str
    activity: Act
    detail: str = ""
    bed: bool = False
    chair: bool = False
    tv: bool = False


@dataclass(slots=True, frozen=True)
class Emit:
    """A device reading at its real time, before firmware quirks, seq numbers and clock skew."""

    at: datetime
    device_key: str
    kind: MessageKind
    fields: dict[str, Any]


@dataclass(slots=True, frozen=True)
class LocalClock:
    """Turns a local date and minutes after local midnight into UTC, and back."""

    tz: ZoneInfo

    def at(self, day: date, minutes: float) -> datetime:
        """UTC moment of `minutes` after local midnight of `day` (may exceed 1440 for the next day)."""
        # Wall-clock arithmetic on naive times first, so that 23:30 + 90 min is 01:00 the next day even
        # across a DST change; only then is the local time attached and converted.
        naive = datetime(day.year, day.month, day.day) + timedelta(minutes=minutes)
        return naive.replace(tzinfo=self.tz).astimezone(UTC)

    def local(self, moment: datetime) -> datetime:
        """The same moment in the home's time zone."""
        return moment.astimezone(self.tz)

    def minutes(self, moment: datetime) -> float:
        """Minutes after local midnight of the moment's local date."""
        loc = self.local(moment)
        return loc.hour * 60 + loc.minute + loc.second / 60


def poisson(rng: random.Random, mean: float) -> int:
    """A Poisson-distributed count (Knuth's method; means here are small)."""
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def to_ms(moment: datetime) -> datetime:
    """The moment cut to whole milliseconds, as devices write it."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def seconds(moment: datetime, secs: float) -> datetime:
    """moment + secs seconds."""
    return moment + timedelta(seconds=secs)


def minutes(moment: datetime, mins: float) -> datetime:
    """moment + mins minutes."""
    return moment + timedelta(minutes=mins)


def sub_rng(seed: int, *parts: object) -> random.Random:
    """An independent, reproducible generator for one part of the simulation."""
    # A str seed is hashed with SHA-512 by random, so it does not depend on PYTHONHASHSEED.
    return random.Random("/".join(str(p) for p in (seed, *parts)))


def overwrite(segments: list[Segment], start: datetime, end: datetime, new: list[Segment]) -> list[Segment]:
    """Replace whatever happened in [start, end) by `new` (which should cover exactly that window)."""
    before = [replace(s, end=min(s.end, start)) for s in segments if s.start < start]
    after = [replace(s, start=max(s.start, end)) for s in segments if s.end > end]
    return [s for s in (*before, *new, *after) if s.end > s.start]


def map_window(
    segments: list[Segment], start: datetime, end: datetime, change: Callable[[Segment], Segment]
) -> list[Segment]:
    """Apply `change` to the parts of the segments inside [start, end), splitting at the edges."""
    out: list[Segment] = []
    for seg in segments:
        if seg.end <= start or seg.start >= end:
            out.append(seg)
            continue
        if seg.start < start:
            out.append(replace(seg, end=start))
        out.append(change(replace(seg, start=max(seg.start, start), end=min(seg.end, end))))
        if seg.end > end:
            out.append(replace(seg, start=end))
    return out


def segment_at(segments: list[Segment], moment: datetime) -> Segment | None:
    """The segment going on at `moment`, if any."""
    starts = [s.start for s in segments]
    index = bisect.bisect_right(starts, moment) - 1
    if index >= 0 and segments[index].end > moment:
        return segments[index]
    return None


def check_timeline(segments: Iterable[Segment]) -> None:
    """Raise ValueError unless the segments are in order, non-empty and without overlaps."""
    previous: Segment | None = None
    for seg in segments:
        if seg.end <= seg.start:
            raise ValueError(f"empty segment {seg}")
        if previous is not None and seg.start < previous.end:
            raise ValueError(f"overlap: {previous} then {seg}")
        previous = seg
