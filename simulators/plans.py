"""Care plans for simulated homes: a profile's carer slots as a stored plan's visits (for `telecare
simulate` and the visits evaluation), and a stored plan's visits back as the slots the simulated carers
follow."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from simulators.profiles import CarerSlot, Profile

# The care tasks a slot's rooms stand for, and back: what a carer does in each room.
ROOM_TASKS = {
    "kitchen": "meal",
    "bathroom": "personal care",
    "bedroom": "dressing",
    "lounge": "companionship",
}
_TASK_ROOMS = {task: room for room, task in ROOM_TASKS.items()}


def slot_tasks(slot: CarerSlot) -> list[str]:
    """The tasks of a slot (medication on the morning and bedtime calls), from the rooms it uses."""
    tasks = [ROOM_TASKS[room] for room, _ in slot.tasks if room in ROOM_TASKS]
    if slot.name in ("morning", "bedtime"):
        tasks.append("medication")
    return list(dict.fromkeys(tasks))


def plan_body(profile: Profile, *, starts_on: date, carer_ids: Iterable[str] = ()) -> dict[str, Any]:
    """A care plan (the API's PlanIn) with one recurring visit per carer slot of the profile."""
    carers = list(carer_ids)[:1]
    visits = [
        {
            "label": slot.name,
            "weekdays": sorted(d + 1 for d in slot.weekdays),
            "start_time": f"{int(slot.start // 60):02d}:{int(slot.start % 60):02d}",
            "planned_minutes": int(slot.minutes),
            "tasks": slot_tasks(slot),
            "carer_ids": carers,
        }
        for slot in profile.carers
    ]
    return {"name": f"{profile.name.capitalize()} care", "starts_on": starts_on.isoformat(), "visits": visits}


def slots_from_plan(rows: Iterable[Any], profile: Profile) -> tuple[CarerSlot, ...]:
    """A stored plan's recurring visits (label, weekdays, start_time, planned_minutes, tasks) as slots;
    a slot the profile knows keeps its room shares, a new one gets its rooms from its tasks."""
    known = {s.name: s for s in profile.carers}
    out = []
    for row in rows:
        start = row["start_time"]
        rooms = [(_TASK_ROOMS[t], 1.0) for t in row["tasks"] if t in _TASK_ROOMS] or [("lounge", 1.0)]
        shares = known[row["label"]].tasks if row["label"] in known else tuple(rooms)
        out.append(
            CarerSlot(
                name=row["label"] or "visit",
                start=start.hour * 60 + start.minute,
                minutes=float(row["planned_minutes"]),
                weekdays=frozenset(d - 1 for d in row["weekdays"]),
                tasks=shares,
            )
        )
    return tuple(sorted(out, key=lambda s: s.start))
