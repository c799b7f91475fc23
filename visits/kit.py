"""What a home's kit can corroborate about a visit: its front door contact and the rooms with motion."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

# Roles that say someone is moving about inside (beside motion sensors); front doors are their own role.
_INDOOR_ROLES = frozenset({"motion", "door", "flush", "activity", "bed", "chair", "plug"})
_TYPE_ROLES = {
    "motion_sensor": "motion",
    "bed_sensor": "bed",
    "chair_sensor": "chair",
    "smart_plug": "plug",
    "flush_sensor": "flush",
    "nfc_reader": "reader",
}


@dataclass(slots=True, frozen=True)
class KitDevice:
    """An installed device as verification needs it: type, room and the installer's role ('' = implied)."""

    device_id: UUID
    type: str
    room: str
    given_role: str = ""

    @property
    def role(self) -> str:
        """What the device tells: front_door, door, motion, flush, ... (as the detector reads devices)."""
        if self.given_role:
            return self.given_role
        if self.type == "door_contact":
            return "front_door" if self.room in ("hallway", "") else "door"
        return _TYPE_ROLES.get(self.type, "other")


@dataclass(slots=True, frozen=True)
class Kit:
    """A home's devices by what they can show: the front door(s), motion by room, other indoor sensors."""

    front_doors: frozenset[UUID]
    motion_rooms: dict[UUID, str]
    indoor: frozenset[UUID]

    @classmethod
    def of(cls, devices: Iterable[KitDevice]) -> Kit:
        """Sort a home's devices by role."""
        items = list(devices)
        return cls(
            front_doors=frozenset(d.device_id for d in items if d.role == "front_door"),
            motion_rooms={d.device_id: d.room for d in items if d.role == "motion"},
            indoor=frozenset(d.device_id for d in items if d.role in _INDOOR_ROLES),
        )

    @property
    def has_front_door(self) -> bool:
        """A contact on the front door: arrival and departure can be checked."""
        return bool(self.front_doors)

    @property
    def has_motion(self) -> bool:
        """Any sensor that shows movement inside: whether anyone moved during the visit can be checked."""
        return bool(self.indoor)

    def covers(self, room: str) -> bool:
        """Whether a motion sensor watches this room."""
        return room in self.motion_rooms.values()
