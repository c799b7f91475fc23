"""Rolling a plan forward: the visits it wants over the horizon, reconciled with those already stored.

A visit is keyed by what it materialises (a recurrence's occurrence, or an extra visit's change), so the
job can run any number of times. Only visits not yet under way are ever rewritten: a visit that started,
was checked in to, or was missed stays as it happened.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg

from visits import assignment_queries, plan_queries, queries
from visits.recurrence import Recurrence, local_today, occurrences, span

Key = tuple[str, UUID, date | None]
SYSTEM = ("system", "care plan")


@dataclass(frozen=True, slots=True)
class Wanted:
    """A visit the plan wants: when (local date, UTC start and end), planned or cancelled and why."""

    plan_visit: asyncpg.Record | None
    occurrence_date: date | None
    change_id: UUID | None
    local_date: date
    start: datetime
    end: datetime
    status: str
    reason: str
    tasks: list[str]


@dataclass(frozen=True, slots=True)
class Rolled:
    """What one pass over a plan did."""

    created: int = 0
    rescheduled: int = 0


def recurrence_of(row: asyncpg.Record) -> Recurrence:
    """The recurrence of a care_plan_visits row."""
    return Recurrence(
        tuple(row["weekdays"]), row["interval_weeks"], row["start_time"], row["planned_minutes"]
    )


def wanted_visits(
    plan: asyncpg.Record,
    slots: Iterable[asyncpg.Record],
    changes: list[asyncpg.Record],
    *,
    first: date,
    last: date,
) -> dict[Key, Wanted]:
    """Every visit the plan wants with a local date in first..last (occurrences, moves, extras, pauses)."""
    if not plan["active"]:
        return {}
    tz = ZoneInfo(plan["timezone"])
    first = max(first, plan["starts_on"])
    if plan["ends_on"] is not None:
        last = min(last, plan["ends_on"])
    by_occurrence = {(c["plan_visit_id"], c["occurrence_date"]): c for c in changes if c["kind"] != "pause"}
    pauses = [c for c in changes if c["kind"] == "pause"]
    wanted: dict[Key, Wanted] = {}
    for slot in slots:
        if not slot["active"]:
            continue
        for occ in occurrences(recurrence_of(slot), tz=tz, anchor=plan["starts_on"], first=first, last=last):
            change = by_occurrence.get((slot["id"], occ.occurrence_date))
            wanted[("occ", slot["id"], occ.occurrence_date)] = _occurrence(
                slot, occ.occurrence_date, change, tz
            )
    slot_by_id = {s["id"]: s for s in slots}
    for change in changes:
        if change["kind"] == "extra" and first <= change["local_date"] <= last:
            slot = slot_by_id.get(change["plan_visit_id"])
            wanted[("chg", change["id"], None)] = _extra(slot, change, tz)
    return {key: _paused(w, pauses) for key, w in wanted.items()}


def _occurrence(slot: asyncpg.Record, day: date, change: asyncpg.Record | None, tz: ZoneInfo) -> Wanted:
    tasks = list(slot["tasks"])
    if change is None or change["kind"] not in ("cancel", "move"):
        start, end = span(day, slot["start_time"], slot["planned_minutes"], tz)
        return Wanted(slot, day, None, day, start, end, "planned", "", tasks)
    if change["kind"] == "cancel":
        start, end = span(day, slot["start_time"], slot["planned_minutes"], tz)
        return Wanted(slot, day, None, day, start, end, "cancelled", change["reason"], tasks)
    minutes = change["planned_minutes"] or slot["planned_minutes"]
    start, end = span(change["local_date"], change["start_time"], minutes, tz)
    moved_tasks = list(change["tasks"]) if change["tasks"] is not None else tasks
    return Wanted(slot, day, None, change["local_date"], start, end, "planned", "", moved_tasks)


def _extra(slot: asyncpg.Record | None, change: asyncpg.Record, tz: ZoneInfo) -> Wanted:
    start, end = span(change["local_date"], change["start_time"], change["planned_minutes"], tz)
    tasks = change["tasks"] if change["tasks"] is not None else (slot["tasks"] if slot else [])
    return Wanted(slot, None, change["id"], change["local_date"], start, end, "planned", "", list(tasks))


def _paused(wanted: Wanted, pauses: list[asyncpg.Record]) -> Wanted:
    if wanted.change_id is not None or wanted.status != "planned":
        return wanted  # an extra visit is asked for on purpose, pause or not
    for pause in pauses:
        if pause["paused_from"] <= wanted.local_date <= pause["paused_until"]:
            reason = f"plan paused: {pause['reason']}"
            return Wanted(**{**_fields(wanted), "status": "cancelled", "reason": reason})
    return wanted


def _fields(wanted: Wanted) -> dict[str, Any]:
    return {name: getattr(wanted, name) for name in Wanted.__slots__}


async def roll_plan(conn: asyncpg.Connection, *, plan_id: UUID, now: datetime, horizon_days: int) -> Rolled:
    """Bring the plan's visits over the horizon in line with the plan (in the caller's transaction)."""
    plan = await plan_queries.get_plan(conn, plan_id=plan_id, for_update=True)
    if plan is None:
        return Rolled()
    today = local_today(now, ZoneInfo(plan["timezone"]))
    slots = await plan_queries.plan_visits(conn, plan_id=plan_id)
    changes = await plan_queries.plan_changes(conn, plan_id=plan_id)
    # From yesterday: a visit moved from a past date to a future one is still the plan's to place.
    wanted = wanted_visits(
        plan, slots, changes, first=today - timedelta(days=1), last=today + timedelta(days=horizon_days)
    )
    stored = {_key(v): v for v in await plan_queries.plan_visits_from(conn, plan_id=plan_id, since=now)}
    rescheduled = 0
    for key, row in stored.items():
        rescheduled += await _reconcile(conn, row, wanted.get(key))
    created = 0
    for key, want in wanted.items():
        # A cancelled occurrence is stored too, so the board and the log say why nobody came.
        if key not in stored and want.start > now:
            created += await _create(conn, plan, want)
    return Rolled(created, rescheduled)


def _key(row: asyncpg.Record) -> Key:
    if row["change_id"] is not None:
        return ("chg", row["change_id"], None)
    return ("occ", row["plan_visit_id"], row["occurrence_date"])


async def _reconcile(conn: asyncpg.Connection, row: asyncpg.Record, want: Wanted | None) -> int:
    if row["status"] not in ("planned", "cancelled") or row["checked_in_at"] is not None:
        return 0
    if want is None:
        if row["status"] == "cancelled":
            return 0
        want = Wanted(
            None,
            None,
            None,
            row["local_date"],
            row["planned_start"],
            row["planned_end"],
            "cancelled",
            "no longer in the care plan",
            [],
        )
    same = (row["local_date"], row["planned_start"], row["planned_end"], row["status"], row["status_reason"])
    if same == (want.local_date, want.start, want.end, want.status, want.reason):
        return 0
    await plan_queries.reschedule(
        conn,
        visit_id=row["id"],
        local_date=want.local_date,
        planned_start=want.start,
        planned_end=want.end,
        status=want.status,
        reason=want.reason,
    )
    if want.status == "planned" and want.tasks != await plan_queries.visit_tasks(conn, visit_id=row["id"]):
        await plan_queries.replace_tasks(conn, visit_id=row["id"], tasks=want.tasks)
    return 1


async def _create(conn: asyncpg.Connection, plan: asyncpg.Record, want: Wanted) -> int:
    slot = want.plan_visit
    visit_id = await queries.insert_visit(
        conn,
        organisation_id=plan["organisation_id"],
        home_id=plan["home_id"],
        local_date=want.local_date,
        planned_start=want.start,
        planned_end=want.end,
        tasks=want.tasks,
        plan_id=plan["id"],
        plan_visit_id=slot["id"] if slot else None,
        occurrence_date=want.occurrence_date,
        change_id=want.change_id,
        service_type=plan["service_type"],
        carers_required=slot["carers_required"] if slot else 1,
        required_skills=list(slot["required_skills"]) if slot else [],
    )
    if visit_id is None:
        return 0
    if want.status != "planned":
        await queries.set_status(conn, visit_id=visit_id, status=want.status, reason=want.reason)
    for carer in slot["carer_ids"] if slot else []:
        reason = "the care plan's standing assignment"
        await assignment_queries.assign(
            conn, visit_id=visit_id, carer_id=carer, by=None, actor=SYSTEM, reason=reason
        )
    return 1


async def roll_all(pool: asyncpg.Pool, *, now: datetime, horizon_days: int) -> Rolled:
    """Roll every plan forward, each in its own transaction (the periodic job)."""
    async with pool.acquire() as conn:
        plan_ids = await plan_queries.active_plan_ids(conn)
    created = rescheduled = 0
    for plan_id in plan_ids:
        async with pool.acquire() as conn, conn.transaction():
            rolled = await roll_plan(conn, plan_id=plan_id, now=now, horizon_days=horizon_days)
        created, rescheduled = created + rolled.created, rescheduled + rolled.rescheduled
    return Rolled(created, rescheduled)
