"""Alerts: list and filter, read, acknowledge, resolve, assign, history, and the live stream.

Every change goes through alerts.service (history and the change notification) in one transaction
with the audit entry.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import asyncpg
import orjson
from fastapi import APIRouter, Body, HTTPException, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from accounts.tenancy import Role
from alerts import queries
from alerts import service as alerts
from alerts.schemas import (
    AcknowledgeIn,
    AlertEventOut,
    AlertOut,
    AlertPage,
    AssignIn,
    ResolveIn,
    Severity,
    Status,
)
from api import alert_actions, pagination
from api.deps import CallerDep, PoolDep, ResourcesDep, request_caller, request_pool
from api.errors import problems
from api.hotpath import query_model, resolved_by
from api.security import Caller
from api.stream import sse_frames
from homes.service import visible_home
from kernel.strict import TimeText

router = APIRouter(prefix="/v1/alerts", tags=["alerts"], responses=problems(401, 403, 404, 422))

_JSON = "application/json"
_STREAM_DOC: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "a text/event-stream: `event: alert` frames whose data is an AlertChangeOut; "
        "`: heartbeat` comments; `event: resync` when changes may have been missed; `event: end` "
        '(data `{"reason": ...}`) just before the server closes a stream whose caller lost access '
        "(logged out, deactivated, API key revoked, token expired, or the stream's home left their scope)",
        "content": {
            "text/event-stream": {
                "schema": {"type": "string"},
                "example": (
                    "event: alert\nid: 3d5c8f0e-2a41-4b7c-9e11-6f2a7b8c9d01:3\n"
                    'data: {"action":"acknowledged","alert":{"id":"3d5c8f0e-...",'
                    '"status":"acknowledged"}}\n\n'
                ),
            }
        },
    }
}


async def _visible(conn: asyncpg.Connection, caller: Caller, alert_id: UUID) -> asyncpg.Record:
    return await alerts.visible_alert(conn, scope=caller.scope, alert_id=alert_id, role=caller.principal.role)


@router.get("/stream", response_class=StreamingResponse, responses=_STREAM_DOC)
async def stream(
    resources: ResourcesDep,
    caller: CallerDep,
    home_id: Annotated[UUID | None, Query(description="only this home's alerts")] = None,
) -> StreamingResponse:
    """Server-sent events: every new or changed alert the caller may see, as it commits."""
    if home_id is not None:
        async with resources.pool.acquire() as conn:
            await visible_home(conn, caller, home_id)
    frames = sse_frames(
        resources.streams,
        resources.gate.watch(caller),
        caller.scope,
        home_id=home_id,
        heartbeat_s=resources.settings.sse_heartbeat_s,
        family=caller.principal.role is Role.FAMILY,
    )
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(frames, media_type="text/event-stream", headers=headers)


class AlertFilters(BaseModel):
    """The listing's query: filters, then the page (`cursor`, `limit`)."""

    home_id: UUID | None = None
    status: list[Status] | None = Field(None, description="any of these (repeat the parameter)")
    severity: list[Severity] | None = None
    kind: Annotated[list[Annotated[str, Field(max_length=32)]], Field(max_length=20)] | None = None
    since: TimeText | None = Field(None, description="triggered at or after")
    until: TimeText | None = Field(None, description="triggered before")
    cursor: pagination.Cursor = None
    limit: pagination.Limit = 50


async def _listing_arguments(request: Request) -> dict[str, Any]:
    # The arguments FastAPI would solve for list_alerts, authenticated first as CallerDep would be.
    caller = await request_caller(request)
    filters = query_model(AlertFilters, request.query_params)
    return {"pool": request_pool(request), "caller": caller, "filters": filters}


async def list_alerts(
    pool: PoolDep, caller: CallerDep, filters: Annotated[AlertFilters, Query()]
) -> Response:
    """Alerts the caller may see, newest triggered first, a page at a time."""
    since = pagination.aware_time(filters.since) if filters.since else None
    until = pagination.aware_time(filters.until) if filters.until else None
    if since and until and since >= until:
        raise HTTPException(422, "since must be before until")
    async with pool.acquire() as conn:
        if filters.kind:
            await alerts.require_known_kinds(conn, kinds=filters.kind)
        rows = await queries.select_page(
            conn,
            scope=caller.scope,
            home_id=filters.home_id,
            statuses=list(filters.status) if filters.status else None,
            severities=list(filters.severity) if filters.severity else None,
            kinds=filters.kind,
            since=since,
            until=until,
            before=pagination.time_and_id(filters.cursor),
            limit=filters.limit + 1,
            family=caller.principal.role is Role.FAMILY,
        )
    more = len(rows) > filters.limit
    rows = rows[: filters.limit]
    following = pagination.encode(rows[-1]["triggered_at"], rows[-1]["id"]) if more else None
    # Built straight from the rows: this is the hot listing, and the rows already have the schema's shape
    # (zipping with the names once is cheaper than looking every value up by name).
    names = tuple(rows[0].keys()) if rows else ()
    items = [dict(zip(names, r, strict=True)) for r in rows]
    body = orjson.dumps({"items": items, "next_cursor": following}, default=str)
    return Response(body, media_type=_JSON)


# The hot route (issue 6): documented from list_alerts' signature, called with _listing_arguments.
router.add_api_route(
    "",
    list_alerts,
    methods=["GET"],
    response_model=AlertPage,
    route_class_override=resolved_by(_listing_arguments),
)


@router.get("/{alert_id}", response_model=AlertOut)
async def get_alert(alert_id: UUID, pool: PoolDep, caller: CallerDep) -> AlertOut:
    """One alert."""
    async with pool.acquire() as conn:
        row = await _visible(conn, caller, alert_id)
    return AlertOut.model_validate(dict(row))


@router.get("/{alert_id}/history", response_model=list[AlertEventOut])
async def alert_history(alert_id: UUID, pool: PoolDep, caller: CallerDep) -> list[AlertEventOut]:
    """Everything that happened to the alert, by whom and when, oldest first."""
    async with pool.acquire() as conn:
        await _visible(conn, caller, alert_id)
        events = await alerts.history(conn, alert_id=alert_id)
    return [AlertEventOut.model_validate(e, from_attributes=True) for e in events]


@router.post("/{alert_id}/acknowledge", response_model=AlertOut, responses=problems(409))
async def acknowledge(
    alert_id: UUID,
    pool: PoolDep,
    caller: CallerDep,
    body: Annotated[AcknowledgeIn | None, Body(examples=[{"note": "calling her now"}, {}])] = None,
) -> AlertOut:
    """Someone has seen the alert and is dealing with it (acknowledging twice changes nothing)."""
    alert = await alert_actions.acknowledge(pool, caller, alert_id, note=body.note if body else None)
    return AlertOut.model_validate(alert, from_attributes=True)


@router.post("/{alert_id}/resolve", response_model=AlertOut, responses=problems(409))
async def resolve(alert_id: UUID, body: ResolveIn, pool: PoolDep, caller: CallerDep) -> AlertOut:
    """Close the alert with a note; mark it a false alarm if it was one."""
    alert = await alert_actions.resolve(pool, caller, alert_id, note=body.note, false_alarm=body.false_alarm)
    return AlertOut.model_validate(alert, from_attributes=True)


@router.post("/{alert_id}/assign", response_model=AlertOut, responses=problems(409))
async def assign(alert_id: UUID, body: AssignIn, pool: PoolDep, caller: CallerDep) -> AlertOut:
    """Give the alert to a coordinator or carer of its organisation, or to nobody (coordinators)."""
    alert = await alert_actions.assign(pool, caller, alert_id, assignee=body.assignee)
    return AlertOut.model_validate(alert, from_attributes=True)
