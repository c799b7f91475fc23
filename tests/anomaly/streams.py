"""Hand-written streams for the detector tests: one small home, readings by local clock time."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

from anomaly.config import DetectorConfig
from anomaly.detector import Detector
from anomaly.model import Action, Clear, Device, HealthChange, Raise, Reading

TZ = ZoneInfo("Europe/London")
KIT = {
    "motion-kitchen": ("motion_sensor", "kitchen"),
    "motion-lounge": ("motion_sensor", "lounge"),
    "motion-bathroom": ("motion_sensor", "bathroom"),
    "motion-hallway": ("motion_sensor", "hallway"),
    "door-front": ("door_contact", "hallway"),
    "bed": ("bed_sensor", "bedroom"),
    "pendant": ("pendant", ""),
    "wrist": ("wrist_wearable", ""),
    "temp-lounge": ("temperature_sensor", "lounge"),
    "smoke": ("smoke_detector", "kitchen"),
    "water": ("water_sensor", "bathroom"),
    "reader": ("nfc_reader", "hallway"),
}


class Clock:
    """A clock the test moves by hand (the runtime's `clock`)."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def at(day: int, hhmm: str, second: int = 0) -> float:
    """Epoch seconds of a local time on day `day` of March 2026 (GMT until the 29th)."""
    hour, minute = (int(p) for p in hhmm.split(":"))
    return datetime(2026, 3, day, hour, minute, second, tzinfo=TZ).timestamp()


@dataclass
class Home:
    """A detector watching one home, with helpers to send readings and collect actions."""

    config: DetectorConfig = field(default_factory=lambda: DetectorConfig(min_history_days=14))
    kit: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: dict(KIT))
    home_id: UUID = field(default_factory=uuid4)
    detector: Detector = field(init=False)
    ids: dict[str, UUID] = field(default_factory=dict)
    actions: list[Action] = field(default_factory=list)
    seq: int = 0

    def __post_init__(self) -> None:
        self.detector = Detector(self.config)
        self.detector.add_home(self.home_id, "Europe/London")
        for key, (kind, room, *role) in self.kit.items():
            self.ids[key] = uuid4()
            device = Device(self.ids[key], self.home_id, kind, room)
            if role:
                device = Device(self.ids[key], self.home_id, kind, room, role[0], "event-only" in role)
            self.detector.add_device(device)

    @property
    def state(self) -> Any:
        """The home's detector state."""
        return self.detector.homes[self.home_id]

    def send(
        self,
        key: str,
        kind: str,
        t: float,
        *,
        received: float | None = None,
        suspect: bool = False,
        **fields: Any,
    ) -> list[Action]:
        """Feed one reading (arriving at `received`, default at once); returns the actions."""
        self.seq += 1
        value = fields.get("value")
        for name in ("detected", "open", "occupied", "alarm", "leak"):
            if name in fields:
                value = 1.0 if fields[name] else 0.0
        if "celsius" in fields:
            value = fields["celsius"]
        if "confidence" in fields:
            value = fields["confidence"]
        arrival = received if received is not None else t
        reading = Reading(self.ids[key], self.home_id, kind, t, arrival, self.seq, value, fields, suspect)
        out = self.detector.feed(reading, arrival)
        self.actions += out
        return out

    def motion(self, room: str, t: float) -> list[Action]:
        """A motion trigger in a room."""
        return self.send(f"motion-{room}", "motion", t, detected=True)

    def health(self, key: str, kind: str, t: float, **detail: Any) -> list[Action]:
        """A device health event."""
        out = self.detector.health(HealthChange(self.ids[key], self.home_id, kind, t, detail), t)
        self.actions += out
        return out

    def tick(self, start: float, end: float, step: float = 60.0) -> list[Action]:
        """Tick the clock from start to end; returns the actions."""
        out: list[Action] = []
        t = start
        while t <= end:
            out += self.detector.tick(t)
            t += step
        self.actions += out
        return out


def raised(actions: list[Action], kind: str | None = None) -> list[Raise]:
    """The Raise actions (of a kind)."""
    return [a for a in actions if isinstance(a, Raise) and (kind is None or a.signal.kind == kind)]


def cleared(actions: list[Action], kind: str | None = None) -> list[Clear]:
    """The Clear actions (of a kind)."""
    return [a for a in actions if isinstance(a, Clear) and (kind is None or a.kind == kind)]
