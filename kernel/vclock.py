"""One virtual clock shared by the parts of a replay: ingest's arrival times, the heartbeat check and the
detector read it, so a log played faster than real time is judged as it would have been live."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(slots=True)
class VirtualClock:
    """Epoch seconds that move only when the replay moves them (never backwards)."""

    now: float

    def __call__(self) -> float:
        """The virtual time, epoch seconds (what `time.time` is to a live process)."""
        return self.now

    def utc(self) -> datetime:
        """The virtual time as an aware UTC datetime (what `datetime.now(UTC)` is to a live process)."""
        return datetime.fromtimestamp(self.now, UTC)

    def advance_to(self, moment: float) -> None:
        """Move the clock forward to `moment` (a moment already passed leaves it where it is)."""
        self.now = max(self.now, moment)
