"""Care plans for simulated homes: a profile's carer slots as a stored plan's visits (for `telecare
simulate` and the visits evaluation), and a stored plan's visits back as the slots the simulated carers
follow."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

import asyncpg

from accounts.tenancy import EVERYTHING, Principal, Role, Scope
from simulators.profiles import PROFILES, CarerSlot, Profile
from visits import plans
from visits.plan_schemas import PlanIn

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


_SIMULATOR = Principal("api_key", UUID(int=0), "simulator", Role.PLATFORM_ADMIN, None)


@dataclass(frozen=True, slots=True)
class _Simulator:
    """The simulator as the visits service sees a caller: the platform, setting up its own homes."""

    principal: Principal = _SIMULATOR
    scope: Scope = EVERYTHING

    def require_manager(self, organisation_id: UUID) -> None:
        """The simulator manages the simulated organisation's homes."""


async def create_plans(
    conn: asyncpg.Connection,
    homes: Iterable[tuple[UUID, str]],
    *,
    starts_on: date,
    now: datetime,
    horizon_days: int,
) -> int:
    """A care plan for each (home, profile) of the simulation that has none yet (`telecare simulate
    --care-plans`): the profile's carer slots as recurring visits, materialised over the horizon."""
    made = 0
    for home_id, profile in homes:
        if profile not in PROFILES or not PROFILES[profile].carers:
            continue  # a replayed home has no profile: nothing to plan from
        if await conn.fetchval("SELECT 1 FROM care_plans WHERE home_id = $1 AND active", home_id):
            continue
        body = PlanIn.model_validate(plan_body(PROFILES[profile], starts_on=starts_on))
        await plans.create_plan(
            conn, _Simulator(), home_id=home_id, body=body, now=now, horizon_days=horizon_days
        )
        made += 1
    return made
