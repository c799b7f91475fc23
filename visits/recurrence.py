"""A plan's recurring visit as dates and instants: dateutil's rrule on the home's clock, zoneinfo for UTC.

The recurrence runs on naive local datetimes (08:00 stays 08:00 whatever the season); each occurrence is
then placed in the home's zone. A wall-clock time the spring change skips (01:30 in London on the last
Sunday of March) falls at the same distance after the change (02:30 BST); one the autumn change repeats
is taken the first time (BST). A visit lasts its planned minutes of real time, across a change too.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import MO, WEEKLY, rrule, weekday

# dateutil's weekdays, by ISO number (1 Monday .. 7 Sunday).
_WEEKDAYS = {n: weekday(n - 1) for n in range(1, 8)}


@dataclass(frozen=True, slots=True)
class Recurrence:
    """When a plan's visit recurs: ISO weekdays, every N weeks from the plan's first date, at a local time."""

    weekdays: tuple[int, ...]
    interval_weeks: int
    start_time: time
    planned_minutes: int


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One occurrence: its local date (the recurrence's key), and its planned start and end in UTC."""

    occurrence_date: date
    start: datetime
    end: datetime


def local_hhmm(moment: datetime, zone: str | ZoneInfo) -> str:
    """The moment as HH:MM on the home's own clock (people read their own clock, not UTC)."""
    tz = zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone)
    return moment.astimezone(tz).strftime("%H:%M")


def local_instant(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of a wall-clock time on a local date in the zone (see the module's note on DST)."""
    return datetime.combine(day, at).replace(tzinfo=tz, fold=0).astimezone(UTC)


def span(day: date, at: time, minutes: int, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """(start, end) in UTC of a visit of `minutes` at a local time on a local date."""
    start = local_instant(day, at, tz)
    return start, start + timedelta(minutes=minutes)


def occurrences(
    recurrence: Recurrence, *, tz: ZoneInfo, anchor: date, first: date, last: date
) -> Iterator[Occurrence]:
    """The occurrences on local dates first..last (inclusive), counting weeks from the anchor date."""
    if last < first:
        return
    rule = rrule(
        WEEKLY,
        interval=recurrence.interval_weeks,
        byweekday=[_WEEKDAYS[d] for d in recurrence.weekdays],
        dtstart=datetime.combine(anchor, recurrence.start_time),
        wkst=MO,
    )
    window_start = datetime.combine(first, time.min)
    window_end = datetime.combine(last, time.max)
    for local in rule.between(window_start, window_end, inc=True):
        start, end = span(local.date(), recurrence.start_time, recurrence.planned_minutes, tz)
        yield Occurrence(local.date(), start, end)


def local_today(now: datetime, tz: ZoneInfo) -> date:
    """The home's local date at an instant."""
    return now.astimezone(tz).date()
