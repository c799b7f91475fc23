"""What the detector reads and says: devices, readings, health changes, and alert actions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from uuid import UUID

from alerts.service import Resolution, Severity, Signal

# Kinds that say someone is at home and moving; the others are environment or device housekeeping.
ACTIVITY_KINDS = frozenset({"motion", "contact", "occupancy", "power", "flush"})
# Power above this is an appliance being used; standby draw is not a person.
APPLIANCE_W = 5.0
# Roles a device may be given explicitly (a replay mapping, an installer): what it tells about the
# resident, whatever its registry type. "activity" is any state-change sensor (a cupboard, a switch).
ROLES = frozenset(
    {"front_door", "door", "bed", "chair", "motion", "plug", "flush", "activity", "temp", "water", "smoke"}
)


@dataclass(slots=True, frozen=True)
class Device:
    """A registered device as the detector needs it: its home, type, room, and optionally its role.

    `event_only`: the device sends only events, no heartbeats, so its silence says nothing of its health.
    """

    device_id: UUID
    home_id: UUID
    type: str
    room: str
    given_role: str = ""
    event_only: bool = False

    @property
    def role(self) -> str:
        """What the device tells about the resident: front_door, bed, chair, motion, wearable, ..."""
        if self.given_role:
            return self.given_role
        if self.type == "door_contact":
            return "front_door" if self.room in ("hallway", "") else "door"
        return {
            "bed_sensor": "bed",
            "chair_sensor": "chair",
            "motion_sensor": "motion",
            "smart_plug": "plug",
            "temperature_sensor": "temp",
            "water_sensor": "water",
            "smoke_detector": "smoke",
            "flush_sensor": "flush",
            "pendant": "wearable",
            "wrist_wearable": "wearable",
            "nfc_reader": "reader",
        }.get(self.type, "other")

    @property
    def label(self) -> str:
        """A name for people: 'kitchen motion sensor', 'pendant'."""
        kind = self.type.replace("_", " ")
        return f"{self.room} {kind}" if self.room else kind


@dataclass(slots=True, frozen=True)
class Reading:
    """One committed reading: event time trusted for timing (epoch seconds), arrival time, payload."""

    device_id: UUID
    home_id: UUID
    kind: str
    at: float
    received: float
    seq: int
    value: float | None
    payload: Mapping[str, Any]
    clock_suspect: bool = False

    @property
    def when(self) -> float:
        """The time to reason with: the device's, unless its clock is not trusted."""
        return self.received if self.clock_suspect else self.at


@dataclass(slots=True, frozen=True)
class HealthChange:
    """A device health event: online, offline, low_battery or battery_ok."""

    device_id: UUID
    home_id: UUID
    kind: str
    at: float
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(slots=True, frozen=True)
class Window:
    """A time (epoch seconds) in which a carer is with the resident."""

    start: float
    end: float
    source: str = "api"


@dataclass(slots=True, frozen=True)
class Raise:
    """Open an alert, or fold into the open one with the same key."""

    signal: Signal
    at: float  # detector time of the decision, for measuring delay

    @property
    def key(self) -> str:
        """The dedupe key."""
        return self.signal.dedupe_key


@dataclass(slots=True, frozen=True)
class Clear:
    """Resolve the open alert of a condition automatically (cleared, or cancelled by the wearer)."""

    home_id: UUID
    key: str
    kind: str
    at: float
    note: str
    resolution: Resolution = "cleared"


Action = Raise | Clear
Mode = Literal["defaults", "learned"]


def ts(seconds: float) -> datetime:
    """Epoch seconds as an aware UTC datetime."""
    return datetime.fromtimestamp(seconds, UTC)


def signal(
    home_id: UUID,
    kind: str,
    severity: Severity,
    key: str,
    at: float,
    title: str,
    explanation: str,
    evidence: list[dict[str, Any]] | None = None,
    *,
    device_id: UUID | None = None,
    room: str | None = None,
) -> Signal:
    """A Signal for the alert lifecycle, with times in epoch seconds."""
    return Signal(
        home_id=home_id,
        kind=kind,
        severity=severity,
        dedupe_key=key,
        triggered_at=ts(at),
        title=title,
        explanation=explanation,
        evidence=evidence or [],
        device_id=device_id,
        room=room or None,
    )
