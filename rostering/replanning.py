"""A stored roster re-planned around an absence: a carer calls in sick, the rest of that day is planned
again (visits already started stay, other rounds change only where they must), stored as a new roster
based on the old one, with what changed.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
import orjson

from accounts.tenancy import Viewer
from rostering import queries, service
from rostering.errors import InvalidRoster
from rostering.figures import figures
from rostering.model import Assignment, Plan, Problem, Round, Stop, StopKind, Uncovered
from rostering.replan import Replan, replan_absence
from rostering.schemas import WeightsIn
from rostering.source import VisitSource
from rostering.travel import TravelMatrix


def _json(value: Any) -> Any:
    return orjson.loads(value) if isinstance(value, str) else value


def _stop(raw: dict[str, Any]) -> Stop:
    start, end = datetime.fromisoformat(raw["start"]), datetime.fromisoformat(raw["end"])
    return Stop(StopKind(raw["kind"]), raw.get("visit_id"), start, start, end, int(raw.get("travel_s", 0)))


async def stored_plan(conn: asyncpg.Connection, *, roster_id: UUID, problem: Problem) -> Plan:
    """A stored roster back as the solver's plan."""
    rounds = [
        Round(
            str(r["carer_id"]),
            r["day"].isoformat(),
            r["depart_at"],
            r["back_at"],
            tuple(_stop(s) for s in _json(r["stops"])),
            r["travel_s"],
        )
        for r in await queries.roster_rounds(conn, roster_id=roster_id)
    ]
    made = [
        Assignment(
            a["visit_id"],
            tuple(str(c) for c in a["carer_ids"]),
            a["starts_at"],
            a["late_s"],
            tuple(a["reasons"]),
        )
        for a in await queries.roster_assignments(conn, roster_id=roster_id)
    ]
    left = [
        Uncovered(u["visit_id"], u["reason"])
        for u in await queries.roster_uncovered(conn, roster_id=roster_id)
    ]
    known = {v.id for v in problem.visits}
    made = [a for a in made if a.visit_id in known]
    stats = figures(problem.visits, rounds, made, problem.history, problem.weights)
    return Plan(tuple(rounds), tuple(made), tuple(left), stats, solver="pyvrp")


async def replan(
    pool: asyncpg.Pool,
    caller: Viewer,
    source: VisitSource,
    travel: TravelMatrix,
    *,
    roster_id: UUID,
    carer_id: UUID,
    at: datetime,
    time_limit_s: float,
) -> tuple[UUID, Replan]:
    """The roster re-planned without carer_id from `at` on, stored as a new ready roster (based on it)."""
    async with pool.acquire() as conn:
        row = await service.visible_roster(conn, caller, roster_id)
        org = row["organisation_id"]
        caller.require_manager(org)
        if row["status"] not in ("ready", "accepted"):
            raise InvalidRoster(
                f"roster {roster_id} is {row['status']}; only a finished roster is re-planned"
            )
        if not row["period_start"] <= at.date() <= row["period_end"]:
            raise InvalidRoster("the absence is outside the roster's dates")
        weights = WeightsIn.model_validate(_json(row["weights"]) or {}).weights()
        problem, unplannable = await service.load_problem(
            conn,
            source,
            organisation_id=org,
            start=row["period_start"],
            end=row["period_end"],
            weights=weights,
        )
        if str(carer_id) not in {c.id for c in problem.carers}:
            raise InvalidRoster(f"{carer_id} is not one of the organisation's carers")
        current = await stored_plan(conn, roster_id=roster_id, problem=problem)
    result = await asyncio.to_thread(
        replan_absence,
        problem,
        current,
        carer_id=str(carer_id),
        at=at,
        travel=travel,
        time_limit_s=time_limit_s,
    )
    async with pool.acquire() as conn, conn.transaction():
        new_id = await queries.insert_roster(
            conn,
            organisation_id=org,
            start=row["period_start"],
            end=row["period_end"],
            weights=_json(row["weights"]) or {},
            created_by=caller.principal.id,
            based_on=roster_id,
        )
        await service.store_plan(conn, roster_id=new_id, plan=result.plan, unplannable=unplannable)
    return new_id, result
