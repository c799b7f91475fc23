"""The dispatcher's clock: the wall clock, or one moved by hand (tests of waits and quiet hours)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Tells the time."""

    def now(self) -> datetime:
        """An aware UTC time."""


class SystemClock:
    """The wall clock."""

    def now(self) -> datetime:
        """The time now."""
        return datetime.now(UTC)


class ManualClock:
    """A clock that moves only when told to."""

    def __init__(self, start: datetime) -> None:
        self._now = start

    def now(self) -> datetime:
        """The time it was set to."""
        return self._now

    def advance(self, seconds: float) -> None:
        """Move the clock forward."""
        self._now += timedelta(seconds=seconds)

    def set(self, at: datetime) -> None:
        """Set the clock."""
        self._now = at
