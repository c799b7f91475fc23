"""The four real homes of ../shared/dev-data/real-homes/ and what their sensors are, as replay mappings.

Only the sensor names are read from the data; the mapping rules below are ours. The data itself is
research data that is never committed: the evaluation skips itself when the folder is absent.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from simulators.replay import Mapping, Row, read_rows

ENV = "TELECARE_REAL_HOMES"
ROOT = Path(__file__).resolve().parents[2]


@dataclass(slots=True, frozen=True)
class RealHome:
    """One home's files, time zone and source."""

    name: str
    tz: str
    source: str
    # The MIT logs' epochs are the home's wall-clock times written as if UTC (their breakfast labels fall
    # at 06:00-09:00 "UTC", dinner at 16:00-20:00): they are read as local times in tz, not as UTC.
    local_epochs: bool = False


VAN_KASTEREN = (
    "van Kasteren et al., 'Human activity recognition from wireless sensor network data: benchmark and "
    "software', 2011 (TL reformatting, github agnesvanbelle/TL at 22d0103)"
)
TAPIA = (
    "Tapia, Intille, Larson, 'Activity Recognition in the Home Setting Using Simple and Ubiquitous "
    "Sensors', Pervasive 2004 (TL reformatting, github agnesvanbelle/TL at 22d0103)"
)
HOMES = (
    RealHome("houseB", "Europe/Amsterdam", f"van Kasteren house B (2009): {VAN_KASTEREN}"),
    RealHome("houseC", "Europe/Amsterdam", f"van Kasteren house C (2008-09): {VAN_KASTEREN}"),
    RealHome("houseD", "America/New_York", f"MIT PlaceLab-style subject 1 (2003): {TAPIA}", True),
    RealHome("houseE", "America/New_York", f"MIT PlaceLab-style subject 2 (2003): {TAPIA}", True),
)


def data_dir() -> Path | None:
    """Where the data is ($TELECARE_REAL_HOMES, or ../shared/dev-data/real-homes beside the repository)."""
    given = os.environ.get(ENV)
    candidates = [Path(given)] if given else []
    for up in (ROOT.parent, ROOT.parent.parent):
        candidates.append(up / "shared" / "dev-data" / "real-homes")
    return next((p for p in candidates if (p / "houseB.sensors").exists()), None)


KITCHEN = "door_contact", "kitchen", "activity"
# van Kasteren houses B and C (Dutch names): name -> (type, room, role[, values, key]).
NAMED: dict[str, tuple[str, ...]] = {
    "toilet door": ("door_contact", "bathroom", "door"),
    "fridge": KITCHEN,
    "cupboard groceries": KITCHEN,
    "cupboard plates": KITCHEN,
    "kwik cutlary drawer": KITCHEN,
    "kwik stove lid": KITCHEN,
    "gootsteen float": KITCHEN,
    "toilet flush": ("flush_sensor", "bathroom", "flush"),
    "frontdoor": ("door_contact", "hallway", "front_door"),
    "front door reed": ("door_contact", "hallway", "front_door"),
    "bedroom door": ("door_contact", "bedroom", "door"),
    # The mats of these homes report presses (a second or two each), not a state.
    "press bed rechts": ("bed_sensor", "bedroom", "bed", "pulse", "bed-right"),
    "press bed links": ("bed_sensor", "bedroom", "bed", "pulse", "bed-left"),
    "mat bed right pressure mat": ("bed_sensor", "bedroom", "bed", "pulse", "bed-right"),
    "bed mat left pressure mat": ("bed_sensor", "bedroom", "bed", "pulse", "bed-left"),
    "matt couch living room": ("chair_sensor", "lounge", "chair", "pulse", "couch"),
    "pir slaapkamer": ("motion_sensor", "bedroom", "motion"),
    "pir badkamer": ("motion_sensor", "bathroom", "motion"),
    "pir keuken": ("motion_sensor", "kitchen", "motion"),
    "bathtub pir": ("motion_sensor", "bathroom", "motion"),
    "dresser pir": ("motion_sensor", "bedroom", "motion"),
    "kwik dresser": ("door_contact", "bedroom", "activity"),
    "toaster": ("smart_plug", "kitchen", "plug"),
    "magnetron": ("smart_plug", "kitchen", "plug"),
    "freezer drove": KITCHEN,
    "cutlery drawer mercury sensor": KITCHEN,
    "table pans reed": KITCHEN,
    "microwave reed": KITCHEN,
    "table scraps containers reed": KITCHEN,
    "cabinet signs/herb reed": KITCHEN,
    "cabinet cups/bowl/ tuna reed": KITCHEN,
    "refrigerator reed": KITCHEN,
    # Two sensors on one flush (top and bottom): one device, so one flush is one flush.
    "toilet flush top flush": ("flush_sensor", "bathroom", "flush", "auto", "flush"),
    "toilet flush bottom flush": ("flush_sensor", "bathroom", "flush", "auto", "flush"),
    "keys": ("door_contact", "hallway", "activity"),
    "bath lift left": ("door_contact", "bathroom", "activity"),
    "door downstairs toilet": ("door_contact", "bathroom", "door"),
    "sink top flush": ("door_contact", "bathroom", "activity"),
}
# MIT homes: "Room,Thing" names.
ROOMS = {
    "bathroom": "bathroom",
    "kitchen": "kitchen",
    "bedroom": "bedroom",
    "living room": "lounge",
    "den": "lounge",
    "foyer": "hallway",
    "hallway": "hallway",
    "porch": "porch",
    "office/study": "office",
    "dinning room": "dining",
    "butlers pantry": "kitchen",
}
COOKING = ("toaster", "microwave", "coffee machine", "burner", "oven")
APPLIANCES = (
    *COOKING,
    "tv",
    "stereo",
    "dvd",
    "washing machine",
    "dishwasher",
    "laundry dryer",
    "exhaust fan",
)
FRONT_DOORS = {"houseD": "foyer", "houseE": "hallway"}


def _mit(home: str, name: str) -> dict[str, Any]:
    room_word, _, thing = name.partition(",")
    room = ROOMS.get(room_word.strip().lower(), room_word.strip().lower().replace(" ", "_"))
    thing = thing.strip().lower()
    if thing.startswith("toilet flush"):
        return {"type": "flush_sensor", "room": room, "role": "flush"}
    if thing == "door" and room_word.strip().lower() == FRONT_DOORS.get(home):
        return {"type": "door_contact", "room": room, "role": "front_door"}
    if any(thing.startswith(a) for a in APPLIANCES):
        watts = 1000.0 if any(thing.startswith(a) for a in COOKING) else 100.0
        return {"type": "smart_plug", "room": room, "role": "plug", "on_watts": watts}
    role = "door" if thing.startswith("door") else "activity"
    return {"type": "door_contact", "room": room, "role": role}


def mapping(home: RealHome, folder: Path) -> Mapping:
    """The replay mapping of one home, from its sensor names."""
    sensors: dict[str, dict[str, Any]] = {}
    for line in (folder / f"{home.name}.sensor_names").read_text().splitlines():
        sensor, _, name = line.partition("\t")
        name = name.strip()
        if not sensor.strip() or not name:
            continue
        if "," in name:
            entry = _mit(home.name, name)
        elif name.lower() in NAMED:
            kind, room, role, *rest = NAMED[name.lower()]
            entry = {"type": kind, "room": room, "role": role}
            if rest:
                entry["values"] = rest[0]
            if len(rest) > 1:
                entry["key"] = rest[1]
        else:
            continue
        entry.setdefault("key", f"{entry['room']}-{sensor.strip()}")
        sensors[sensor.strip()] = entry
    return Mapping.parse({"home": home.name, "timezone": home.tz, "event_only": True, "sensors": sensors})


def utc_of(home: RealHome, epoch: float) -> float:
    """An epoch of the log as real UTC (the MIT logs' are local wall-clock times written as UTC)."""
    if not home.local_epochs:
        return epoch
    wall = datetime.fromtimestamp(epoch, UTC).replace(tzinfo=ZoneInfo(home.tz))
    return wall.timestamp()


def rows(home: RealHome, folder: Path, mapping: Mapping) -> list[Row]:
    """The home's log as replay rows, at their real UTC times."""
    read = read_rows(folder / f"{home.name}.sensors", mapping, fmt="tl")
    if not home.local_epochs:
        return read
    return [replace(r, at=datetime.fromtimestamp(utc_of(home, r.at.timestamp()), UTC)) for r in read]


def labels(home: RealHome, folder: Path) -> list[tuple[float, float, str]]:
    """The home's activity labels: (start, end, name), epoch seconds."""
    names = {}
    for line in (folder / f"{home.name}.activity_names").read_text().splitlines():
        ident, _, name = line.partition("\t")
        names[ident.strip()] = name.strip().lower()
    out = []
    for line in (folder / f"{home.name}.activities").read_text().splitlines():
        parts = line.split()
        if len(parts) >= 3:
            start = utc_of(home, float(parts[0]))
            out.append((start, start + float(parts[1]), names.get(parts[2], parts[2])))
    return out
