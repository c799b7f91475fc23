"""The rules of care plans: who may set one up or change it, and what a plan may name.

A plan belongs to a home; only the home's organisation's coordinators (and platform admins) manage it.
Carers named in a plan must be active carers of that organisation already among the home's carers (being
put on a visit never grants a home by itself), with the skills the visit requires.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg

from accounts.members import member_of
from accounts.tenancy import Role, Viewer
from homes.service import managed_home
from visits import plan_queries
from visits.errors import InvalidInput, NotFound
from visits.materialise import recurrence_of, roll_plan
from visits.plan_schemas import CancelIn, ExtraIn, MoveIn, PauseIn, PlanIn
from visits.recurrence import local_today, occurrences

PlanChange = CancelIn | MoveIn | ExtraIn | PauseIn


def plan_not_found(plan_id: UUID) -> NotFound:
    """The one answer for a plan that does not exist or is another tenant's."""
    return NotFound(f"care plan {plan_id} not found")


async def require_carers(
    conn: asyncpg.Connection,
    caller: Viewer,
    *,
    organisation_id: UUID,
    home_id: UUID,
    carer_ids: list[UUID],
    skills: list[str],
) -> None:
    """Each carer is an active carer of the organisation, among the home's carers, with the skills."""
    for carer_id in carer_ids:
        await member_of(
            conn, caller, carer_id, organisation_id=organisation_id, roles=(Role.CARER,), active=True
        )
        if not await plan_queries.assigned_to_home(conn, user_id=carer_id, home_id=home_id):
            raise InvalidInput(
                f"carer {carer_id} is not among this home's carers; "
                "add them first (POST /v1/homes/{home_id}/carers)"
            )
        missing = set(skills) - await plan_queries.carer_skills(conn, user_id=carer_id)
        if missing:
            raise InvalidInput(
                f"carer {carer_id} lacks the skills this visit requires: {', '.join(sorted(missing))}"
            )


async def create_plan(
    conn: asyncpg.Connection,
    caller: Viewer,
    *,
    home_id: UUID,
    body: PlanIn,
    now: datetime,
    horizon_days: int,
) -> asyncpg.Record:
    """Set up a home's care plan and materialise its visits over the horizon; returns the plan row."""
    home = await managed_home(conn, caller, home_id)
    org = home["organisation_id"]
    for slot in body.visits:
        await require_carers(
            conn,
            caller,
            organisation_id=org,
            home_id=home_id,
            carer_ids=slot.carer_ids,
            skills=slot.required_skills,
        )
    plan_id = await plan_queries.insert_plan(
        conn,
        home_id=home_id,
        organisation_id=org,
        name=body.name,
        service_type=body.service_type,
        starts_on=body.starts_on,
        ends_on=body.ends_on,
        rules=body.rules.model_dump(),
        created_by=caller.principal.id,
    )
    for slot in body.visits:
        await plan_queries.insert_plan_visit(conn, plan_id=plan_id, **slot.model_dump())
    await roll_plan(conn, plan_id=plan_id, now=now, horizon_days=horizon_days)
    row = await plan_queries.get_plan(conn, plan_id=plan_id)
    assert row is not None
    return row


async def visible_plan(conn: asyncpg.Connection, caller: Viewer, plan_id: UUID) -> asyncpg.Record:
    """The plan if the caller's scope sees its home; NotFound otherwise."""
    row = await plan_queries.scoped_plan(conn, plan_id=plan_id, scope=caller.scope)
    if row is None:
        raise plan_not_found(plan_id)
    return row


async def managed_plan(conn: asyncpg.Connection, caller: Viewer, plan_id: UUID) -> asyncpg.Record:
    """The plan if the caller manages its organisation (404 if not visible, 403 if only visible)."""
    row = await visible_plan(conn, caller, plan_id)
    caller.require_manager(row["organisation_id"])
    return row


async def change_plan(
    conn: asyncpg.Connection,
    caller: Viewer,
    *,
    plan_id: UUID,
    change: PlanChange,
    now: datetime,
    horizon_days: int,
) -> UUID:
    """Record a one-off change (cancel, move, extra visit, pause) and apply it to the visits; its id."""
    plan = await managed_plan(conn, caller, plan_id)
    columns = change.model_dump()
    slot_id = columns.get("plan_visit_id")
    if slot_id is not None:
        slot = next(
            (s for s in await plan_queries.plan_visits(conn, plan_id=plan_id) if s["id"] == slot_id), None
        )
        if slot is None:
            raise InvalidInput(f"plan visit {slot_id} is not one of this plan's")
        if isinstance(change, CancelIn | MoveIn):
            _require_occurrence(plan, slot, change.occurrence_date)
    if isinstance(change, MoveIn | ExtraIn):
        _require_not_past(plan, change.local_date, now)
    change_id = await plan_queries.insert_change(
        conn, plan_id=plan_id, created_by=caller.principal.id, **columns
    )
    await roll_plan(conn, plan_id=plan_id, now=now, horizon_days=horizon_days)
    return change_id


def _require_occurrence(plan: asyncpg.Record, slot: asyncpg.Record, day: Any) -> None:
    tz = ZoneInfo(plan["timezone"])
    found = any(occurrences(recurrence_of(slot), tz=tz, anchor=plan["starts_on"], first=day, last=day))
    in_plan = day >= plan["starts_on"] and (plan["ends_on"] is None or day <= plan["ends_on"])
    if not (found and in_plan):
        raise InvalidInput(f"plan visit {slot['id']} has no occurrence on {day}")


def _require_not_past(plan: asyncpg.Record, day: Any, now: datetime) -> None:
    if day < local_today(now, ZoneInfo(plan["timezone"])):
        raise InvalidInput(f"{day} is in the past for this home")


async def stop_plan(
    conn: asyncpg.Connection, caller: Viewer, *, plan_id: UUID, now: datetime, horizon_days: int
) -> asyncpg.Record:
    """Stop a plan: its visits not yet under way are cancelled; those that happened stay."""
    plan = await managed_plan(conn, caller, plan_id)
    await plan_queries.end_plan(conn, plan_id=plan_id)
    await roll_plan(conn, plan_id=plan_id, now=now, horizon_days=horizon_days)
    return plan


async def plan_view(conn: asyncpg.Connection, plan: asyncpg.Record) -> dict[str, Any]:
    """A plan with its recurring visits, changes and rules, as PlanOut reads it."""
    rules = {
        k: plan[k]
        for k in (
            "late_after_minutes",
            "missed_after_minutes",
            "short_below_percent",
            "no_checkout_after_minutes",
            "alerts_off",
        )
    }
    return {
        **dict(plan),
        "rules": rules,
        "visits": [dict(r) for r in await plan_queries.plan_visits(conn, plan_id=plan["id"])],
        "changes": [dict(r) for r in await plan_queries.plan_changes(conn, plan_id=plan["id"])],
    }
