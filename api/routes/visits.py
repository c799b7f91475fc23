"""Visits: a visit, a carer's own day, check-in and check-out, tasks, reassignment, today's board, the
verification log (JSON and CSV) and a home's visits for its family. The rules are in visits.service.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal
from uuid import UUID

import orjson
from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field

from api import pagination
from api.deps import CallerDep, PoolDep, SettingsDep, request_caller, request_pool
from api.errors import problems
from api.hotpath import query_model, resolved_by
from kernel.settings import Settings
from kernel.strict import DayText
from visits import event_queries, log_queries
from visits import service as visits
from visits.checkins import CheckConfig
from visits.schemas import (
    BoardOut,
    FamilyVisitOut,
    ManualEntryIn,
    PhoneCheckIn,
    TaskIn,
    Verdict,
    VerificationPage,
    VisitCarersIn,
    VisitEventOut,
    VisitOut,
)
from visits.views import board_view, family_view, log_csv, log_view, visit_view

router = APIRouter(prefix="/v1", tags=["visits"], responses=problems(401, 403, 404, 422))


def _now() -> datetime:
    return datetime.now(UTC)


@router.get("/visits/mine", response_model=list[VisitOut])
async def my_visits(
    pool: PoolDep,
    caller: CallerDep,
    day: Annotated[
        DayText | None, Query(alias="date", description="a local date; default: now -12 h to +24 h")
    ] = None,
) -> list[VisitOut]:
    """A carer's own visits of the day, in planned order."""
    now = _now()
    async with pool.acquire() as conn:
        rows = await visits.my_visits(conn, caller, day=day, now=now)
    return [VisitOut.model_validate(visit_view(r, now)) for r in rows]


@router.get("/visits/{visit_id}", response_model=VisitOut)
async def get_visit(visit_id: UUID, pool: PoolDep, caller: CallerDep) -> VisitOut:
    """One visit with its carers, tasks, check-in and check-out, and live status."""
    async with pool.acquire() as conn:
        row = await visits.staff_visit(conn, caller, visit_id)
    return VisitOut.model_validate(visit_view(row, _now()))


@router.get("/visits/{visit_id}/events", response_model=list[VisitEventOut])
async def visit_events(visit_id: UUID, pool: PoolDep, caller: CallerDep) -> list[VisitEventOut]:
    """Every check-in and check-out of the visit, accepted or not, with its flags."""
    async with pool.acquire() as conn:
        await visits.staff_visit(conn, caller, visit_id)
        rows = await event_queries.visit_events(conn, visit_id=visit_id)
    return [VisitEventOut.model_validate(dict(r)) for r in rows]


async def _phone(
    kind: Literal["check_in", "check_out"],
    visit_id: UUID,
    body: PhoneCheckIn,
    pool: PoolDep,
    caller: CallerDep,
    settings: Settings,
) -> VisitEventOut:
    config = CheckConfig.from_settings(settings)
    async with pool.acquire() as conn, conn.transaction():
        event = await visits.phone_check(
            conn, caller, visit_id=visit_id, kind=kind, body=body, config=config, now=_now()
        )
        await caller.audit(
            conn,
            action=f"visit.{kind}",
            target_type="visit",
            target_id=visit_id,
            organisation_id=event["organisation_id"],
            detail={
                "method": "phone",
                "flags": list(event["flags"]),
                "event_time": event["event_time"].isoformat(),
            },
        )
    return VisitEventOut.model_validate(dict(event))


@router.post(
    "/visits/{visit_id}/check-in", response_model=VisitEventOut, status_code=201, responses=problems(409)
)
async def check_in(
    visit_id: UUID, body: PhoneCheckIn, pool: PoolDep, caller: CallerDep, settings: SettingsDep
) -> VisitEventOut:
    """The visit's carer checks in by phone, with the location fix of that moment (never a trail).

    A fix outside the home's geofence is recorded, flagged and alerted; an offline phone sends its own
    `event_time` later (flagged late_arrival).
    """
    return await _phone("check_in", visit_id, body, pool, caller, settings)


@router.post(
    "/visits/{visit_id}/check-out", response_model=VisitEventOut, status_code=201, responses=problems(409)
)
async def check_out(
    visit_id: UUID, body: PhoneCheckIn, pool: PoolDep, caller: CallerDep, settings: SettingsDep
) -> VisitEventOut:
    """The visit's carer checks out by phone, with the location fix of that moment."""
    return await _phone("check_out", visit_id, body, pool, caller, settings)


@router.post(
    "/visits/{visit_id}/manual", response_model=VisitEventOut, status_code=201, responses=problems(409)
)
async def manual_entry(
    visit_id: UUID, body: ManualEntryIn, pool: PoolDep, caller: CallerDep
) -> VisitEventOut:
    """A coordinator enters a check-in or check-out by hand with the reason (flagged manual, audited)."""
    async with pool.acquire() as conn, conn.transaction():
        event = await visits.manual_entry(conn, caller, visit_id=visit_id, body=body, now=_now())
        await caller.audit(
            conn,
            action=f"visit.manual_{body.kind}",
            target_type="visit",
            target_id=visit_id,
            organisation_id=event["organisation_id"],
            detail={
                "carer_id": str(body.carer_id),
                "event_time": body.event_time.isoformat(),
                "reason": body.reason,
            },
        )
    return VisitEventOut.model_validate(dict(event))


@router.post("/visits/{visit_id}/tasks", response_model=VisitOut, responses=problems(409))
async def record_task(visit_id: UUID, body: TaskIn, pool: PoolDep, caller: CallerDep) -> VisitOut:
    """Mark one of the visit's tasks done or not done, with a note (the visit's carer, or a coordinator)."""
    async with pool.acquire() as conn, conn.transaction():
        row = await visits.record_task(conn, caller, visit_id=visit_id, body=body)
        await caller.audit(
            conn,
            action="visit.task",
            target_type="visit",
            target_id=visit_id,
            organisation_id=row["organisation_id"],
            detail={"task": body.task, "status": body.status, "note": body.note},
        )
        row = await visits.visible_visit(conn, caller, visit_id)
    return VisitOut.model_validate(visit_view(row, _now()))


@router.put("/visits/{visit_id}/carers", response_model=VisitOut, responses=problems(409))
async def reassign(visit_id: UUID, body: VisitCarersIn, pool: PoolDep, caller: CallerDep) -> VisitOut:
    """Give the visit to these carers (coordinators); each change is kept with its reason."""
    async with pool.acquire() as conn, conn.transaction():
        change = await visits.reassign(conn, caller, visit_id=visit_id, body=body)
        row = await visits.visible_visit(conn, caller, visit_id)
        await caller.audit(
            conn,
            action="visit.assign",
            target_type="visit",
            target_id=visit_id,
            organisation_id=row["organisation_id"],
            detail={**change, "reason": body.reason},
        )
    return VisitOut.model_validate(visit_view(row, _now()))


class BoardQuery(BaseModel):
    """The board's query: the day, then the page (`cursor`, `limit`)."""

    # Named as the query parameter is (api.hotpath.query_model reads fields by name).
    date: DayText | None = Field(None, description="a local date; default: each home's today")
    cursor: pagination.Cursor = None
    limit: pagination.Limit = 100


async def _board_arguments(request: Request) -> dict[str, Any]:
    # The arguments FastAPI would solve for board, authenticated first as CallerDep would be.
    caller = await request_caller(request)
    try:
        organisation_id = UUID(request.path_params["organisation_id"])
    except ValueError:
        error = {"type": "uuid_parsing", "loc": ("path", "organisation_id"), "msg": "Input should be a UUID"}
        raise RequestValidationError([error]) from None
    query = query_model(BoardQuery, request.query_params)
    return {
        "organisation_id": organisation_id,
        "pool": request_pool(request),
        "caller": caller,
        "query": query,
    }


async def board(
    organisation_id: UUID, pool: PoolDep, caller: CallerDep, query: Annotated[BoardQuery, Query()]
) -> Response:
    """Today's board: the organisation's visits of the day by planned start, a page at a time, with their
    live status; the first page also counts the whole day's visits by live status (coordinators)."""
    now = _now()
    after = pagination.time_and_id(query.cursor)
    limit, day = query.limit, query.date
    async with pool.acquire() as conn:
        rows, counts = await visits.board_with_counts(
            conn, caller, organisation_id=organisation_id, day=day, now=now, after=after, limit=limit + 1
        )
    more = len(rows) > limit
    following = pagination.encode(rows[limit - 1]["planned_start"], rows[limit - 1]["id"]) if more else None
    # Built straight from the rows in VisitOut's shape (tests/visits/test_board.py checks it against
    # BoardOut): the board is asked for every few seconds by every coordinator's screen.
    items = [board_view(row, now) for row in rows[:limit]]
    shown = day or (items[0]["local_date"] if items else now.date())
    page = {"organisation_id": organisation_id, "date": shown, "counts": counts, "visits": items}
    body = orjson.dumps(page | {"next_cursor": following}, default=str, option=orjson.OPT_UTC_Z)
    return Response(body, media_type="application/json")


# A hot route (like the alert listing, issue 6): documented from board's signature, called with
# _board_arguments. On a router of its own, which the app includes first: matching a request against the
# routes before it took about as long as building the page's fifty items (issue 14's profile).
board_router = APIRouter(prefix="/v1", tags=["visits"], responses=problems(401, 403, 404, 422))
board_router.add_api_route(
    "/organisations/{organisation_id}/visits/board",
    board,
    methods=["GET"],
    response_model=BoardOut,
    route_class_override=resolved_by(_board_arguments),
)


def _range(since: date | None, until: date | None) -> tuple[date | None, date | None]:
    if since and until and since >= until:
        raise HTTPException(422, "since must be before until")
    return since, until


@router.get(
    "/organisations/{organisation_id}/visits/log",
    response_model=VerificationPage,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
async def verification_log(
    organisation_id: UUID,
    pool: PoolDep,
    caller: CallerDep,
    home_id: UUID | None = None,
    carer_id: UUID | None = None,
    verdict: Annotated[list[Verdict] | None, Query(description="any of these (repeat the parameter)")] = None,
    since: Annotated[DayText | None, Query(description="local date, inclusive")] = None,
    until: Annotated[DayText | None, Query(description="local date, exclusive")] = None,
    format: Annotated[Literal["json", "csv"], Query(description="csv: the whole range as one file")] = "json",
    cursor: pagination.Cursor = None,
    limit: pagination.Limit = 100,
) -> Response | VerificationPage:
    """The verification log: each visit's EVV elements, method and verdict, newest first (coordinators)."""
    since, until = _range(since, until)
    async with pool.acquire() as conn:
        await visits.board_access(conn, caller, organisation_id=organisation_id)
        rows = await log_queries.select_log(
            conn,
            scope=caller.scope,
            organisation_id=organisation_id,
            home_id=home_id,
            carer_id=carer_id,
            verdicts=list(verdict) if verdict else None,
            since=since,
            until=until,
            before=pagination.time_and_id(cursor) if format == "json" else None,
            limit=limit + 1 if format == "json" else 100_000,
        )
    if format == "csv":
        headers = {"Content-Disposition": f'attachment; filename="visits-{organisation_id}.csv"'}
        return Response(log_csv(rows), media_type="text/csv", headers=headers)
    more = len(rows) > limit
    rows = rows[:limit]
    following = pagination.encode(rows[-1]["planned_start"], rows[-1]["id"]) if more else None
    return VerificationPage.model_validate({"items": [log_view(r) for r in rows], "next_cursor": following})


@router.get("/homes/{home_id}/visits", response_model=list[FamilyVisitOut])
async def home_visits(
    home_id: UUID,
    pool: PoolDep,
    caller: CallerDep,
    since: Annotated[DayText | None, Query(description="local date, inclusive; default: 7 days ago")] = None,
    until: Annotated[
        DayText | None, Query(description="local date, exclusive; default: 7 days ahead")
    ] = None,
) -> list[FamilyVisitOut]:
    """A home's visits: when, who, for how long, and the verdict (the family, the provider)."""
    today = _now().date()
    start, end = _range(since or today - timedelta(days=7), until or today + timedelta(days=7))
    assert start is not None and end is not None
    async with pool.acquire() as conn:
        rows = await visits.home_visits(conn, caller, home_id=home_id, since=start, until=end)
    return [FamilyVisitOut.model_validate(family_view(r)) for r in rows]
