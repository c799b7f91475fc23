"""The rules of rostering: who may set a carer's profile, propose, see, accept and compare rosters.

A roster of another organisation does not exist for the caller (RosterNotFound, as a missing one). Only
an organisation's coordinators (and platform admins) propose and accept; proposing starts a background
job (rostering/jobs.py) and accepting assigns every visit through visits' own service, audited there.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg
import orjson

from accounts.members import member_of, visible_user
from accounts.tenancy import Role, Viewer
from rostering import queries
from rostering.errors import InvalidRoster, RosterNotFound, RosterNotReady
from rostering.model import Carer, GeoPoint, Plan, Problem, Shift, TravelMode, Weights
from rostering.schemas import CarerProfileIn, RosterIn
from rostering.source import VisitSource

MAX_DAYS = 31


async def set_profile(
    conn: asyncpg.Connection, caller: Viewer, *, user_id: UUID, body: CarerProfileIn
) -> asyncpg.Record:
    """Set a carer's profile (their organisation's coordinators)."""
    user = await visible_user(conn, caller, user_id)
    if user.organisation_id is None:
        raise InvalidRoster(f"user {user_id} is not a carer")
    caller.require_manager(user.organisation_id)
    await member_of(conn, caller, user_id, organisation_id=user.organisation_id, roles=(Role.CARER,))
    try:
        ZoneInfo(body.timezone)
    except (KeyError, ValueError) as exc:
        raise InvalidRoster(f"unknown time zone {body.timezone!r}") from exc
    return await queries.upsert_profile(
        conn,
        user_id=user_id,
        organisation_id=user.organisation_id,
        home_latitude=body.home_latitude,
        home_longitude=body.home_longitude,
        travel_mode=body.travel_mode.value,
        max_week_minutes=body.max_week_minutes,
        working_hours=body.working_hours,
        timezone=body.timezone,
    )


async def get_profile(conn: asyncpg.Connection, caller: Viewer, *, user_id: UUID) -> asyncpg.Record:
    """A carer's profile (themselves, their organisation's coordinators)."""
    await visible_user(conn, caller, user_id)
    row = await queries.get_profile(conn, user_id=user_id)
    if row is None:
        raise RosterNotFound(f"user {user_id} has no carer profile")
    return row


def check_range(body: RosterIn) -> None:
    """A range the planner takes: start first, at most a month."""
    if body.end < body.start:
        raise InvalidRoster("end is before start")
    if (body.end - body.start).days + 1 > MAX_DAYS:
        raise InvalidRoster(f"a roster covers at most {MAX_DAYS} days")


async def visible_roster(conn: asyncpg.Connection, caller: Viewer, roster_id: UUID) -> asyncpg.Record:
    """The roster if it is the caller's organisation's (or they are a platform admin)."""
    row = await queries.get_roster(conn, roster_id=roster_id)
    p = caller.principal
    if row is None or not (p.role is Role.PLATFORM_ADMIN or p.organisation_id == row["organisation_id"]):
        raise RosterNotFound(f"roster {roster_id} not found")
    if p.role not in (Role.PLATFORM_ADMIN, Role.COORDINATOR, Role.INTEGRATION):
        raise RosterNotFound(f"roster {roster_id} not found")
    return row


def _shifts(hours: dict[str, list[list[str]]], zone: ZoneInfo, start: date, end: date) -> tuple[Shift, ...]:
    out = []
    day = start
    while day <= end:
        for lo, hi in hours.get(str(day.isoweekday()), []):
            a = datetime.combine(day, time.fromisoformat(lo), tzinfo=zone)
            b = datetime.combine(day, time.fromisoformat(hi), tzinfo=zone)
            out.append(Shift(a, b))
        day += timedelta(days=1)
    return tuple(out)


def carer_from(row: asyncpg.Record, skills: frozenset[str], start: date, end: date) -> Carer:
    """A stored profile as the solver's carer."""
    hours = row["working_hours"]
    hours = orjson.loads(hours) if isinstance(hours, str) else hours
    zone = ZoneInfo(row["timezone"])
    return Carer(
        id=str(row["user_id"]),
        name=row["name"],
        home=GeoPoint(row["home_latitude"], row["home_longitude"]),
        skills=skills,
        travel_mode=TravelMode(row["travel_mode"]),
        shifts=_shifts(hours, zone, start, end),
        max_week_s=row["max_week_minutes"] * 60,
    )


async def load_problem(
    conn: asyncpg.Connection,
    source: VisitSource,
    *,
    organisation_id: UUID,
    start: date,
    end: date,
    weights: Weights,
) -> tuple[Problem, list[tuple[str, str]]]:
    """The solver's input for the organisation's visits of the range, and what could not be put to it."""
    since = datetime.combine(start, time(), tzinfo=ZoneInfo("UTC")) - timedelta(days=weights.history_days)
    inputs = await source.inputs(conn, organisation_id=organisation_id, start=start, end=end, since=since)
    rows = await queries.organisation_carers(conn, organisation_id=organisation_id)
    carers = tuple(carer_from(r, inputs.skills.get(str(r["user_id"]), frozenset()), start, end) for r in rows)
    problem = Problem(tuple(inputs.visits), carers, tuple(inputs.history), weights)
    return problem, inputs.unplannable


async def store_plan(
    conn: asyncpg.Connection, *, roster_id: UUID, plan: Plan, unplannable: list[tuple[str, str]]
) -> None:
    """A finished plan's rows and figures."""
    f = plan.figures
    figures: dict[str, Any] = {
        "visits": f.visits + len(unplannable),
        "covered": f.covered,
        "uncovered": f.uncovered + len(unplannable),
        "travel_h": f.travel_h,
        "late_visits": f.late_visits,
        "lateness_h": f.lateness_h,
        "distinct_carers_per_client_week": f.distinct_carers_per_client_week,
        "hours_per_carer": f.hours_per_carer,
        "hours_spread_h": f.hours_spread_h,
        "new_carer_visits": f.new_carer_visits,
    }
    assignments = [
        (a.visit_id, [UUID(c) for c in a.carer_ids], a.start, a.late_s, list(a.reasons))
        for a in plan.assignments
    ]
    rounds = [
        (
            UUID(r.carer_id),
            date.fromisoformat(r.day),
            r.depart,
            r.back,
            r.travel_s,
            [
                {
                    "kind": s.kind.value,
                    "visit_id": s.visit_id,
                    "start": s.start.isoformat(),
                    "end": s.end.isoformat(),
                    "travel_s": s.travel_s,
                }
                for s in r.stops
            ],
        )
        for r in plan.rounds
    ]
    uncovered = [(u.visit_id, u.reason) for u in plan.uncovered] + unplannable
    await queries.finish_roster(
        conn,
        roster_id=roster_id,
        figures=figures,
        assignments=assignments,
        rounds=rounds,
        uncovered=uncovered,
    )


async def accept(conn: asyncpg.Connection, caller: Viewer, source: VisitSource, *, roster_id: UUID) -> int:
    """Assign every visit of a ready roster through visits' service; the roster is then accepted."""
    row = await visible_roster(conn, caller, roster_id)
    caller.require_manager(row["organisation_id"])
    locked = await queries.get_roster(conn, roster_id=roster_id, for_update=True)
    assert locked is not None
    if locked["status"] != "ready":
        raise RosterNotReady(f"roster {roster_id} is {locked['status']}; only a ready roster is accepted")
    made = 0
    for a in await queries.roster_assignments(conn, roster_id=roster_id):
        await source.assign(
            conn, caller, visit_id=a["visit_id"], carer_ids=list(a["carer_ids"]), reason=f"roster {roster_id}"
        )
        made += 1
    await queries.mark_accepted(conn, roster_id=roster_id, by=caller.principal.id)
    return made


def _diff(fa: dict[str, Any], fb: dict[str, Any]) -> dict[str, dict[str, float | None]]:
    out: dict[str, dict[str, float | None]] = {}
    for key in sorted(set(fa) | set(fb)):
        a, b = fa.get(key), fb.get(key)
        if isinstance(a, int | float) or isinstance(b, int | float):
            na = float(a) if isinstance(a, int | float) else None
            nb = float(b) if isinstance(b, int | float) else None
            out[key] = {
                "a": na,
                "b": nb,
                "b_minus_a": None if na is None or nb is None else round(nb - na, 3),
            }
    return out


async def compare(conn: asyncpg.Connection, caller: Viewer, *, a: UUID, b: UUID) -> dict[str, Any]:
    """Two rosters' figures side by side, and which visits went to other carers."""
    ra, rb = await visible_roster(conn, caller, a), await visible_roster(conn, caller, b)
    fa = orjson.loads(ra["figures"]) if isinstance(ra["figures"], str) else (ra["figures"] or {})
    fb = orjson.loads(rb["figures"]) if isinstance(rb["figures"], str) else (rb["figures"] or {})
    xa = {r["visit_id"]: sorted(r["carer_ids"]) for r in await queries.roster_assignments(conn, roster_id=a)}
    xb = {r["visit_id"]: sorted(r["carer_ids"]) for r in await queries.roster_assignments(conn, roster_id=b)}
    return {
        "a": a,
        "b": b,
        "figures": _diff(fa, fb),
        "visits_with_other_carers": sum(1 for v in xa.keys() & xb.keys() if xa[v] != xb[v]),
        "only_in_a": sorted(xa.keys() - xb.keys()),
        "only_in_b": sorted(xb.keys() - xa.keys()),
    }
