"""Local time of a home, fast: epoch seconds to minute of day, hour, weekday and the home's day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

_SLOT_S = 900  # offsets change on quarter hours at the finest, so one lookup serves a quarter hour


class LocalClock:
    """Converts epoch seconds to the home's wall clock, caching the UTC offset per quarter hour."""

    __slots__ = ("_cache", "tz", "tz_name")

    def __init__(self, tz_name: str) -> None:
        self.tz_name = tz_name
        self.tz = ZoneInfo(tz_name)
        self._cache: dict[int, float] = {}

    def _offset(self, t: float) -> float:
        slot = int(t // _SLOT_S)
        offset = self._cache.get(slot)
        if offset is None:
            if len(self._cache) > 4096:
                self._cache.clear()
            delta = datetime.fromtimestamp(slot * _SLOT_S, UTC).astimezone(self.tz).utcoffset()
            offset = delta.total_seconds() if delta else 0.0
            self._cache[slot] = offset
        return offset

    def local_s(self, t: float) -> float:
        """Seconds since 1970-01-01 on the local wall clock."""
        return t + self._offset(t)

    def minute(self, t: float) -> float:
        """Minutes after local midnight."""
        return (self.local_s(t) % 86400) / 60

    def hour(self, t: float) -> int:
        """Local hour, 0 to 23."""
        return int((self.local_s(t) % 86400) // 3600)

    def weekend(self, t: float) -> bool:
        """True on a local Saturday or Sunday."""
        return int(self.local_s(t) // 86400 + 3) % 7 >= 5  # 1970-01-01 was a Thursday

    def day(self, t: float, start_min: float) -> int:
        """The home's day number: local days that begin at start_min (04:00 keeps a night in one day)."""
        return int((self.local_s(t) - start_min * 60) // 86400)

    def at_minute(self, t: float, minute: float) -> float:
        """Epoch seconds of `minute` after local midnight on the local date of t."""
        midnight = t - (self.local_s(t) % 86400)
        return midnight + minute * 60

    def hhmm(self, t: float) -> str:
        """Local 'HH:MM'."""
        minute = self.minute(t)
        return f"{int(minute // 60):02d}:{int(minute % 60):02d}"


def day_iso(day: int) -> str:
    """The date of a day number, as YYYY-MM-DD."""
    return (datetime(1970, 1, 1) + timedelta(days=day)).date().isoformat()


def hhmm(minute: float) -> str:
    """Minutes after midnight as 'HH:MM' (wrapping past 24 h)."""
    minute = minute % 1440
    return f"{int(minute // 60):02d}:{int(minute % 60):02d}"


def duration(seconds: float) -> str:
    """A duration for people: '45 min', '2 h 05'."""
    mins = round(seconds / 60)
    if mins < 60:
        return f"{mins} min"
    return f"{mins // 60} h {mins % 60:02d}"
