"""Rostering for coordinators: carers' profiles, rosters proposed in the background, accepted, compared.

The rules are in rostering.service; the job runner (rostering.jobs) belongs to the lifespan.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import orjson
from fastapi import APIRouter, Depends, Query, Request

from api.deps import CallerDep, PoolDep
from api.errors import problems
from homes.service import require_organisation
from rostering import queries, replanning, service
from rostering.jobs import RosterJobs, RosterRequest
from rostering.schemas import (
    CarerProfileIn,
    CarerProfileOut,
    CompareOut,
    ReplanIn,
    ReplanOut,
    RosterIn,
    RosterOut,
    RoundChangeOut,
)
from rostering.visits_source import VisitsSource

router = APIRouter(prefix="/v1", tags=["rostering"], responses=problems(401, 403, 404, 422))


async def get_jobs(request: Request) -> RosterJobs:
    """The lifespan's roster jobs."""
    jobs: RosterJobs = request.app.state.roster_jobs
    return jobs


JobsDep = Annotated[RosterJobs, Depends(get_jobs)]


def _json(value: Any) -> Any:
    return orjson.loads(value) if isinstance(value, str) else value


@router.put("/users/{user_id}/carer-profile", response_model=CarerProfileOut)
async def put_carer_profile(
    user_id: UUID, body: CarerProfileIn, pool: PoolDep, caller: CallerDep
) -> CarerProfileOut:
    """Set where a carer starts, how they travel, when they work, their weekly maximum (coordinators)."""
    async with pool.acquire() as conn, conn.transaction():
        row = await service.set_profile(conn, caller, user_id=user_id, body=body)
        await caller.audit(
            conn,
            action="carer_profile.set",
            target_type="user",
            target_id=user_id,
            organisation_id=row["organisation_id"],
            detail=body.model_dump(mode="json"),
        )
    return CarerProfileOut.model_validate({**dict(row), "working_hours": _json(row["working_hours"])})


@router.get("/users/{user_id}/carer-profile", response_model=CarerProfileOut)
async def get_carer_profile(user_id: UUID, pool: PoolDep, caller: CallerDep) -> CarerProfileOut:
    """A carer's rostering profile (the carer, or their organisation's coordinators)."""
    async with pool.acquire() as conn:
        row = await service.get_profile(conn, caller, user_id=user_id)
    return CarerProfileOut.model_validate({**dict(row), "working_hours": _json(row["working_hours"])})


@router.post(
    "/organisations/{organisation_id}/rosters",
    response_model=RosterOut,
    status_code=202,
    responses=problems(409),
)
async def propose_roster(
    organisation_id: UUID, body: RosterIn, pool: PoolDep, caller: CallerDep, jobs: JobsDep, request: Request
) -> RosterOut:
    """Propose a roster for the date range: planned in the background; poll GET /v1/rosters/{id}."""
    caller.require_manager(organisation_id)
    service.check_range(body)
    settings = request.app.state.resources.settings
    limit = min(body.time_limit_s, settings.rostering_time_limit_s)
    async with pool.acquire() as conn, conn.transaction():
        await require_organisation(conn, organisation_id)
        roster_id = await queries.insert_roster(
            conn,
            organisation_id=organisation_id,
            start=body.start,
            end=body.end,
            weights=body.weights.model_dump(),
            created_by=caller.principal.id,
        )
        await caller.audit(
            conn,
            action="roster.propose",
            target_type="roster",
            target_id=roster_id,
            organisation_id=organisation_id,
            detail=body.model_dump(mode="json"),
        )
        row = await queries.get_roster(conn, roster_id=roster_id)
    jobs.start(RosterRequest(roster_id, organisation_id, body.start, body.end, body.weights.weights(), limit))
    assert row is not None
    return _out(row, [], [], [])


@router.get("/organisations/{organisation_id}/rosters", response_model=list[RosterOut])
async def list_rosters(
    organisation_id: UUID,
    pool: PoolDep,
    caller: CallerDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[RosterOut]:
    """An organisation's rosters, newest first, without their rows (coordinators)."""
    caller.require_manager(organisation_id)
    async with pool.acquire() as conn:
        rows = await queries.list_rosters(conn, organisation_id=organisation_id, limit=limit)
    return [_out(r, [], [], []) for r in rows]


@router.get("/rosters/{roster_id}", response_model=RosterOut)
async def get_roster(roster_id: UUID, pool: PoolDep, caller: CallerDep) -> RosterOut:
    """A roster: progress while it runs; then its figures, each assignment with its reasons, its rounds."""
    async with pool.acquire() as conn:
        row = await service.visible_roster(conn, caller, roster_id)
        parts = (
            await queries.roster_assignments(conn, roster_id=roster_id),
            await queries.roster_rounds(conn, roster_id=roster_id),
            await queries.roster_uncovered(conn, roster_id=roster_id),
        )
    return _out(row, *parts)


@router.post("/rosters/{roster_id}/accept", response_model=RosterOut, responses=problems(409))
async def accept_roster(roster_id: UUID, pool: PoolDep, caller: CallerDep, request: Request) -> RosterOut:
    """Accept a ready roster: every visit is assigned its carers through visits (audited)."""
    settings = request.app.state.resources.settings
    source = VisitsSource(window_s=settings.rostering_window_minutes * 60)
    async with pool.acquire() as conn, conn.transaction():
        made = await service.accept(conn, caller, source, roster_id=roster_id)
        row = await queries.get_roster(conn, roster_id=roster_id)
        assert row is not None
        await caller.audit(
            conn,
            action="roster.accept",
            target_type="roster",
            target_id=roster_id,
            organisation_id=row["organisation_id"],
            detail={"visits_assigned": made},
        )
    return _out(row, [], [], [])


@router.post(
    "/rosters/{roster_id}/replan", response_model=ReplanOut, status_code=201, responses=problems(409)
)
async def replan_roster(
    roster_id: UUID, body: ReplanIn, pool: PoolDep, caller: CallerDep, jobs: JobsDep, request: Request
) -> ReplanOut:
    """A carer away from `at` on (called in sick): the rest of that day re-planned as a new roster based on
    this one; visits already started stay, other rounds change only where they must, and what changed is
    listed."""
    settings = request.app.state.resources.settings
    source = VisitsSource(window_s=settings.rostering_window_minutes * 60)
    limit = min(body.time_limit_s, settings.rostering_time_limit_s)
    new_id, result = await replanning.replan(
        pool, caller, source, jobs.travel, roster_id=roster_id, carer_id=body.carer_id,
        at=body.at, time_limit_s=limit,
    )  # fmt: skip
    async with pool.acquire() as conn, conn.transaction():
        row = await queries.get_roster(conn, roster_id=new_id)
        assert row is not None
        await caller.audit(
            conn,
            action="roster.replan",
            target_type="roster",
            target_id=new_id,
            organisation_id=row["organisation_id"],
            detail={"based_on": str(roster_id), **body.model_dump(mode="json"), "summary": result.summary},
        )
        parts = (
            await queries.roster_assignments(conn, roster_id=new_id),
            await queries.roster_rounds(conn, roster_id=new_id),
            await queries.roster_uncovered(conn, roster_id=new_id),
        )
    return ReplanOut(
        roster=_out(row, *parts),
        based_on=roster_id,
        summary=result.summary,
        moved=list(result.orphaned),
        changes=[RoundChangeOut.model_validate(c, from_attributes=True) for c in result.changes],
    )


@router.get("/rosters/{roster_id}/compare", response_model=CompareOut)
async def compare_rosters(
    roster_id: UUID,
    pool: PoolDep,
    caller: CallerDep,
    other: Annotated[UUID, Query(description="the roster to compare with")],
) -> CompareOut:
    """Two rosters' figures side by side, and the visits that went to other carers."""
    async with pool.acquire() as conn:
        result = await service.compare(conn, caller, a=roster_id, b=other)
    return CompareOut.model_validate(result)


def _out(row: Any, assignments: Any, rounds: Any, uncovered: Any) -> RosterOut:
    return RosterOut.model_validate(
        {
            **{
                k: row[k]
                for k in ("id", "organisation_id", "period_start", "period_end", "status", "message")
            },
            "progress": float(row["progress"]),
            "figures": _json(row["figures"]),
            "created_at": row["created_at"],
            "finished_at": row["finished_at"],
            "accepted_at": row["accepted_at"],
            "assignments": [dict(a) for a in assignments],
            "rounds": [{**dict(r), "stops": _json(r["stops"])} for r in rounds],
            "uncovered": [dict(u) for u in uncovered],
        }
    )
