"""Home layouts: rooms, how they connect, and the kit of devices installed in each."""

from __future__ import annotations

from dataclasses import dataclass

from devices.contract import MessageKind
from simulators.timeline import OUT

# Mirrors device_types.heartbeat_interval_s in migrations/0001_registry.sql.
HEARTBEAT_S: dict[str, int] = {
    "motion_sensor": 3600,
    "door_contact": 3600,
    "bed_sensor": 3600,
    "chair_sensor": 3600,
    "temperature_sensor": 900,
    "smart_plug": 900,
    "water_sensor": 3600,
    "smoke_detector": 3600,
    "flush_sensor": 3600,
    "pendant": 300,
    "wrist_wearable": 300,
    "nfc_reader": 3600,
}

# Plugs and the door reader are on the mains and send no battery level.
MAINS_TYPES = frozenset({"smart_plug", "nfc_reader"})

# What each device type reports besides status, heartbeat and presence.
TYPE_KINDS: dict[str, tuple[MessageKind, ...]] = {
    "motion_sensor": (MessageKind.MOTION,),
    "door_contact": (MessageKind.CONTACT,),
    "bed_sensor": (MessageKind.OCCUPANCY,),
    "chair_sensor": (MessageKind.OCCUPANCY,),
    "temperature_sensor": (MessageKind.TEMPERATURE,),
    "smart_plug": (MessageKind.POWER,),
    "water_sensor": (MessageKind.WATER_LEAK,),
    "smoke_detector": (MessageKind.SMOKE,),
    "flush_sensor": (MessageKind.FLUSH,),
    "pendant": (MessageKind.ALARM, MessageKind.ALARM_CANCEL),
    "wrist_wearable": (MessageKind.FALL, MessageKind.ALARM, MessageKind.ALARM_CANCEL),
    "nfc_reader": (MessageKind.TAG,),
}


@dataclass(slots=True, frozen=True)
class DeviceSpec:
    """One installed device: stable key, registry type and room (empty for wearables)."""

    key: str
    type: str
    room: str

    @property
    def heartbeat_s(self) -> int:
        """Heartbeat interval of the device's type."""
        return HEARTBEAT_S[self.type]

    @property
    def battery(self) -> bool:
        """True if the device runs on a battery."""
        return self.type not in MAINS_TYPES


@dataclass(slots=True, frozen=True)
class Room:
    """A room and the rooms walked through from it to the hallway (the front door)."""

    name: str
    route: tuple[str, ...]


@dataclass(slots=True, frozen=True)
class Layout:
    """A home: its rooms and device kit."""

    name: str
    description: str
    rooms: tuple[Room, ...]
    devices: tuple[DeviceSpec, ...]

    def has(self, key: str) -> bool:
        """True if a device with this key is installed."""
        return any(d.key == key for d in self.devices)

    def device(self, key: str) -> DeviceSpec:
        """The device with this key; KeyError if absent."""
        for spec in self.devices:
            if spec.key == key:
                return spec
        raise KeyError(key)

    def keys_of(self, device_type: str) -> list[str]:
        """Keys of all devices of a type, in kit order."""
        return [d.key for d in self.devices if d.type == device_type]

    def room_names(self) -> list[str]:
        """All rooms, hallway included."""
        return [r.name for r in self.rooms]

    def path(self, src: str, dst: str) -> tuple[str, ...]:
        """Rooms crossed between src and dst, both excluded; OUT is just beyond the hallway."""
        up = (src, *self._route(src))
        down = (dst, *self._route(dst))
        meet = next(room for room in up if room in down)
        walk = up[1 : up.index(meet) + 1] + tuple(reversed(down[1 : down.index(meet)]))
        return tuple(room for room in walk if room not in (src, dst))

    def _route(self, room: str) -> tuple[str, ...]:
        if room == OUT:
            return ("hallway",)
        for r in self.rooms:
            if r.name == room:
                return r.route
        raise KeyError(room)


def _kit(rooms: tuple[Room, ...], extra: tuple[tuple[str, str, str], ...]) -> tuple[DeviceSpec, ...]:
    # Every room gets a motion sensor; the rest of the kit is listed per layout.
    motion = tuple(DeviceSpec(f"motion-{r.name}", "motion_sensor", r.name) for r in rooms)
    common = (
        ("door-front", "door_contact", "hallway"),
        ("bed-bedroom", "bed_sensor", "bedroom"),
        ("chair-lounge", "chair_sensor", "lounge"),
        ("plug-kettle", "smart_plug", "kitchen"),
        ("plug-microwave", "smart_plug", "kitchen"),
        ("plug-tv", "smart_plug", "lounge"),
        ("temp-lounge", "temperature_sensor", "lounge"),
        ("water-bathroom", "water_sensor", "bathroom"),
        ("smoke-hallway", "smoke_detector", "hallway"),
        ("flush-bathroom", "flush_sensor", "bathroom"),
        ("pendant", "pendant", ""),
        ("wrist", "wrist_wearable", ""),
        ("nfc-front", "nfc_reader", "hallway"),
    )
    return motion + tuple(DeviceSpec(k, t, r) for k, t, r in (*common, *extra))


_HALL = ("hallway",)
_FLAT_ROOMS = (
    Room("hallway", ()),
    Room("kitchen", _HALL),
    Room("lounge", _HALL),
    Room("bedroom", _HALL),
    Room("bathroom", _HALL),
)
_BUNGALOW_ROOMS = (*_FLAT_ROOMS, Room("bedroom2", _HALL))
_HOUSE_ROOMS = (
    Room("hallway", ()),
    Room("kitchen", _HALL),
    Room("lounge", _HALL),
    Room("landing", _HALL),
    Room("bedroom", ("landing", "hallway")),
    Room("bathroom", ("landing", "hallway")),
)

LAYOUTS: dict[str, Layout] = {
    layout.name: layout
    for layout in (
        Layout(
            "flat",
            "Ground-floor flat: kitchen, lounge, bedroom, bathroom off one hallway.",
            _FLAT_ROOMS,
            _kit(_FLAT_ROOMS, (("door-fridge", "door_contact", "kitchen"),)),
        ),
        Layout(
            "bungalow",
            "Bungalow with a spare bedroom and a kitchen smoke alarm; no fridge contact.",
            _BUNGALOW_ROOMS,
            _kit(
                _BUNGALOW_ROOMS,
                (
                    ("smoke-kitchen", "smoke_detector", "kitchen"),
                    ("temp-bedroom", "temperature_sensor", "bedroom"),
                ),
            ),
        ),
        Layout(
            "house",
            "Two-storey house: bedroom and bathroom upstairs off the landing, kitchen leak sensor.",
            _HOUSE_ROOMS,
            _kit(
                _HOUSE_ROOMS,
                (
                    ("door-fridge", "door_contact", "kitchen"),
                    ("temp-bedroom", "temperature_sensor", "bedroom"),
                    ("water-kitchen", "water_sensor", "kitchen"),
                    ("smoke-landing", "smoke_detector", "landing"),
                ),
            ),
        ),
    )
}


def get_layout(name: str) -> Layout:
    """The layout called `name`; ValueError lists the known ones."""
    try:
        return LAYOUTS[name]
    except KeyError:
        raise ValueError(f"unknown layout {name!r}; known: {', '.join(sorted(LAYOUTS))}") from None
