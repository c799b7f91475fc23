"""Quiet hours in a person's own time zone: when a non-critical message may go."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo


def quiet_until(at: datetime, *, start: time, end: time, tz: str) -> datetime | None:
    """The end of the quiet hours `at` falls in (an aware UTC time), or None if `at` is not in them.

    Quiet hours may cross midnight (22:00 to 07:00). The end is found on the local calendar, so a
    change of clocks in the night moves it as the person's own clock does.
    """
    zone = ZoneInfo(tz)
    local = at.astimezone(zone)
    now = local.time().replace(tzinfo=None)
    if start == end:
        return None
    crosses = start > end
    inside = (now >= start or now < end) if crosses else (start <= now < end)
    if not inside:
        return None
    day = local.date()
    if crosses and now >= start:
        day += timedelta(days=1)
    ends = datetime.combine(day, end, tzinfo=zone)
    # A wall time that does not exist (skipped by a change of clocks) is read forward by zoneinfo.
    return ends.astimezone(UTC)
