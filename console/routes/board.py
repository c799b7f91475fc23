"""The coordinator's board: open alerts, live through the alert stream, acted on in one or two clicks;
and an alert's audit trail."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse, StreamingResponse

from accounts.errors import Forbidden
from accounts.tenancy import Role
from api import alert_actions
from api.deps import ResourcesDep
from api.stream import sse_frames
from console import service
from console.render import page
from console.route import ConsoleRoute
from console.session import ActingDep, Viewer, ViewerDep, read_form, safe_next
from homes.service import visible_home

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)

_NOTE_MAX = 2000


def staff_only(viewer: Viewer) -> None:
    """Forbidden unless a coordinator or platform admin."""
    if not viewer.staff:
        raise Forbidden("the board is for the care provider's coordinators")


@router.get("/board")
async def board(request: Request, resources: ResourcesDep, viewer: ViewerDep) -> Response:
    """Open alerts of the coordinator's organisation, updated live."""
    staff_only(viewer)
    async with resources.pool.acquire() as conn:
        alerts, staff = await service.board(conn, viewer)
        lines = await service.home_lines(conn, viewer)
    return page(request, "board.html", viewer=viewer, active="board", alerts=alerts, staff=staff, lines=lines)


@router.get("/board/alerts")
async def board_alerts(request: Request, resources: ResourcesDep, viewer: ViewerDep) -> Response:
    """The board's list of open alerts alone (what the live page swaps in)."""
    staff_only(viewer)
    async with resources.pool.acquire() as conn:
        alerts, staff = await service.board(conn, viewer)
        lines = await service.home_lines(conn, viewer)
    return page(request, "_board_live.html", viewer=viewer, alerts=alerts, staff=staff, lines=lines)


@router.get("/stream")
async def stream(
    resources: ResourcesDep,
    viewer: ViewerDep,
    home_id: Annotated[UUID | None, Query()] = None,
) -> StreamingResponse:
    """The alert stream for the console's pages: the API's, authenticated by the console's cookie."""
    if home_id is not None:
        async with resources.pool.acquire() as conn:
            await visible_home(conn, viewer.caller, home_id)
    frames = sse_frames(
        resources.streams,
        resources.gate.watch(viewer.caller),
        viewer.caller.scope,
        home_id=home_id,
        heartbeat_s=resources.settings.sse_heartbeat_s,
        family=viewer.caller.principal.role is Role.FAMILY,
    )
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(frames, media_type="text/event-stream", headers=headers)


async def _after_action(request: Request, resources: ResourcesDep, viewer: Viewer) -> Response:
    """htmx gets the fresh board list; a plain form post goes back where it came from."""
    if request.headers.get("hx-request"):
        return await board_alerts(request, resources, viewer)
    back = safe_next((await read_form(request)).get("back"))
    return RedirectResponse(back, status_code=303)


@router.post("/alerts/{alert_id}/acknowledge")
async def acknowledge(
    alert_id: UUID, request: Request, resources: ResourcesDep, viewer: ActingDep
) -> Response:
    """Acknowledge: someone is dealing with it."""
    await alert_actions.acknowledge(resources.pool, viewer.caller, alert_id, note=None)
    return await _after_action(request, resources, viewer)


@router.post("/alerts/{alert_id}/assign")
async def assign(alert_id: UUID, request: Request, resources: ResourcesDep, viewer: ActingDep) -> Response:
    """Give the alert to a coordinator or carer (or to nobody)."""
    chosen = (await read_form(request)).get("assignee", "")
    try:
        assignee = UUID(chosen) if chosen else None
    except ValueError:
        assignee = None
    await alert_actions.assign(resources.pool, viewer.caller, alert_id, assignee=assignee)
    return await _after_action(request, resources, viewer)


@router.post("/alerts/{alert_id}/resolve")
async def resolve(alert_id: UUID, request: Request, resources: ResourcesDep, viewer: ActingDep) -> Response:
    """Resolve, perhaps as a false alarm (which teaches the detector), with an optional note."""
    form = await read_form(request)
    false_alarm = form.get("false_alarm") in ("1", "on", "true")
    note = form.get("note", "").strip()[:_NOTE_MAX] or ("false alarm" if false_alarm else "handled")
    await alert_actions.resolve(resources.pool, viewer.caller, alert_id, note=note, false_alarm=false_alarm)
    return await _after_action(request, resources, viewer)


@router.get("/alerts/{alert_id}")
async def audit_trail(
    alert_id: UUID, request: Request, resources: ResourcesDep, viewer: ViewerDep
) -> Response:
    """Everything that happened to an alert, by whom and when."""
    async with resources.pool.acquire() as conn:
        alert, events = await service.audit_trail(conn, viewer, alert_id)
    return page(request, "alert.html", viewer=viewer, alert=alert, events=events, active="board")
