"""What the home's own sensors saw around a visit: the front door at arrival and departure, movement
during the visit and in the rooms its tasks need, and whether the home looked empty before or after.

Pure functions over the readings of the home near the visit; nothing here reads the carer's phone
beyond the two moments it checked in and out. Where the kit cannot show something the finding says so
(`not_covered`) rather than guessing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal
from uuid import UUID

from visits.kit import Kit
from visits.recurrence import local_hhmm

Status = Literal["seen", "not_seen", "not_covered", "not_applicable"]

# Words in a task's name that need a room: a meal is made in the kitchen, personal care is given in
# the bathroom. Other tasks (medication, a welfare check) can be done in any room.
TASK_ROOMS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("kitchen", ("breakfast", "lunch", "tea", "dinner", "supper", "meal", "food", "drink")),
    ("bathroom", ("personal care", "wash", "bath", "shower", "toilet", "continence")),
)
_APPLIANCE_W = 5.0


@dataclass(slots=True, frozen=True)
class SensorEvent:
    """One reading of the home: its event time, device, kind and value (1.0 = open, detected)."""

    at: datetime
    device_id: UUID
    kind: str
    value: float | None = None


@dataclass(slots=True, frozen=True)
class Window:
    """How far around the check-in and check-out the sensors are asked (seconds)."""

    door_s: float = 300.0  # the front door must open within this of arrival and of departure
    empty_before_s: float = 3600.0  # how far back to look for the resident having gone out


@dataclass(slots=True, frozen=True)
class Finding:
    """One thing the home saw, or could not see: a code, its status, plain words and the detail."""

    code: str
    status: Status
    text: str
    detail: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """The finding as the verification log stores it."""
        return {"code": self.code, "status": self.status, "text": self.text, **self.detail}


def rooms_for(tasks: Iterable[str]) -> dict[str, list[str]]:
    """The rooms the tasks need, with the tasks that need each: {'kitchen': ['breakfast']}."""
    out: dict[str, list[str]] = {}
    for task in tasks:
        name = task.lower()
        for room, words in TASK_ROOMS:
            if any(w in name for w in words):
                out.setdefault(room, []).append(task)
                break
    return out


def _is_activity(ev: SensorEvent, kit: Kit) -> bool:
    """A reading that says someone moved inside (the front door itself does not)."""
    if ev.device_id not in kit.indoor:
        return False
    if ev.kind == "power":
        return (ev.value or 0.0) > _APPLIANCE_W
    if ev.kind in ("motion", "contact", "occupancy"):
        return (ev.value or 0.0) > 0
    return ev.kind == "flush"


def _door_opened(events: Sequence[SensorEvent], kit: Kit, start: datetime, end: datetime) -> list[datetime]:
    return [
        e.at
        for e in events
        if e.device_id in kit.front_doors
        and e.kind == "contact"
        and (e.value or 0) > 0
        and start <= e.at <= end
    ]


def door_at(
    events: Sequence[SensorEvent], kit: Kit, moment: datetime | None, which: str, win: Window, tz: Any
) -> Finding:
    """Whether the front door opened within a few minutes of the arrival (or departure) at `moment`."""
    code = f"{which}_door"
    if moment is None:
        return Finding(code, "not_applicable", f"No {which} was recorded, so the door was not checked.")
    if not kit.has_front_door:
        text = f"This home has no front door sensor: the {which} was not checked against the door."
        return Finding(code, "not_covered", text)
    pad = timedelta(seconds=win.door_s)
    opened = _door_opened(events, kit, moment - pad, moment + pad)
    minutes = round(win.door_s / 60)
    if not opened:
        at = local_hhmm(moment, tz)
        text = f"The front door did not open within {minutes} minutes of the {which} at {at}."
        return Finding(code, "not_seen", text, {"window_s": win.door_s})
    nearest = min(opened, key=lambda t: abs((t - moment).total_seconds()))
    offset = round((nearest - moment).total_seconds())
    text = f"The front door opened at {local_hhmm(nearest, tz)}, {_offset_words(offset)} the {which}."
    return Finding(code, "seen", text, {"opened_at": nearest.isoformat(), "offset_s": offset})


def _offset_words(offset_s: int) -> str:
    if abs(offset_s) < 60:
        return "at"
    minutes = round(abs(offset_s) / 60)
    return f"{minutes} min {'after' if offset_s > 0 else 'before'}"


def movement(events: Sequence[SensorEvent], kit: Kit, start: datetime, end: datetime) -> Finding:
    """Whether anything moved inside the home between check-in and check-out."""
    if not kit.has_motion:
        return Finding(
            "movement", "not_covered", "This home has no motion sensors: movement was not checked."
        )
    moved = [e for e in events if start <= e.at <= end and _is_activity(e, kit)]
    if not moved:
        return Finding("movement", "not_seen", "Nothing moved in the home during the visit.")
    rooms = sorted({kit.motion_rooms[e.device_id] for e in moved if e.device_id in kit.motion_rooms})
    where = f" ({', '.join(rooms)})" if rooms else ""
    text = f"Movement in the home during the visit{where}."
    return Finding("movement", "seen", text, {"readings": len(moved), "rooms": rooms})


def task_rooms(
    events: Sequence[SensorEvent], kit: Kit, tasks: Iterable[str], start: datetime, end: datetime
) -> list[Finding]:
    """For each room the tasks need, whether its motion sensor saw anyone there during the visit."""
    out: list[Finding] = []
    for room, needing in rooms_for(tasks).items():
        code, what = f"room:{room}", ", ".join(needing)
        detail: dict[str, Any] = {"room": room, "tasks": needing}
        if not kit.covers(room):
            text = f"No motion sensor in the {room}: {what} could not be checked there."
            out.append(Finding(code, "not_covered", text, detail))
            continue
        ids = {d for d, r in kit.motion_rooms.items() if r == room}
        seen = any(e.device_id in ids and (e.value or 0) > 0 and start <= e.at <= end for e in events)
        if seen:
            out.append(Finding(code, "seen", f"Movement in the {room} ({what}).", detail))
        else:
            text = f"No movement in the {room} during the visit, though {what} needs it."
            out.append(Finding(code, "not_seen", text, detail))
    return out


def empty_before(events: Sequence[SensorEvent], kit: Kit, arrival: datetime, win: Window) -> Finding:
    """Whether the home looked empty when the carer arrived: the door was used, then nothing moved."""
    if not (kit.has_front_door and kit.has_motion):
        return Finding(
            "empty_before", "not_covered", "The kit cannot tell whether the home was empty before."
        )
    pad = timedelta(seconds=win.door_s)
    start = arrival - timedelta(seconds=win.empty_before_s)
    doors = _door_opened(events, kit, start, arrival - pad)
    if not doors:
        return Finding("empty_before", "not_seen", "Nobody left the home in the hour before the visit.")
    last = max(doors)
    after = [e for e in events if last < e.at < arrival - pad and _is_activity(e, kit)]
    if after:
        return Finding("empty_before", "not_seen", "Someone was moving at home before the visit.")
    text = "The home looked empty before the visit: the front door was used and nothing moved after."
    return Finding("empty_before", "seen", text, {"door_at": last.isoformat()})


def empty_after(events: Sequence[SensorEvent], kit: Kit, departure: datetime | None, win: Window) -> Finding:
    """Whether anything moved in the home in the minutes after the carer left (only as far as seen)."""
    if departure is None:
        return Finding(
            "empty_after", "not_applicable", "No check-out: the time after the visit is not known."
        )
    if not kit.has_motion:
        return Finding("empty_after", "not_covered", "The kit cannot tell whether the home was empty after.")
    pad = timedelta(seconds=win.door_s)
    moved = [e for e in events if departure + pad < e.at and _is_activity(e, kit)]
    if moved:
        return Finding("empty_after", "not_seen", "Someone was moving at home after the visit.")
    return Finding(
        "empty_after", "seen", "Nothing moved at home in the minutes after the visit (as far as seen)."
    )
