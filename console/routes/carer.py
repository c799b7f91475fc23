"""The carer's view, phone first: my visits today, check in and check out with the browser's location,
tasks done or not done with a note. The writes go through the API's own handlers (so the visits service
judges the fix against the geofence, and the audit log records it, exactly as for the app)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse

from accounts.errors import Forbidden
from accounts.tenancy import Role
from api.deps import ResourcesDep
from api.routes import visits as visits_api
from console import forms, visit_views
from console.render import page
from console.route import ConsoleRoute
from console.service import now_utc
from console.session import ActingDep, Viewer, ViewerDep, read_form

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)

# What the visit's page says after a post (the redirect's ?done=).
DONE_WORDS = {
    "check_in": "Checked in.",
    "check_out": "Checked out. Thank you.",
    "task": "Task saved.",
}


def _carer_only(viewer: Viewer) -> None:
    if viewer.role is not Role.CARER:
        raise Forbidden("the carer view is for carers")


@router.get("/carer")
async def carer(request: Request, resources: ResourcesDep, viewer: ViewerDep) -> Response:
    """My visits today, in planned order, each checked in or out with one tap."""
    _carer_only(viewer)
    async with resources.pool.acquire() as conn:
        cards = await visit_views.carer_day(conn, viewer, now=now_utc())
    return page(request, "carer.html", viewer=viewer, cards=cards, active="carer")


@router.get("/carer/visits/{visit_id}")
async def carer_visit(
    visit_id: UUID,
    request: Request,
    resources: ResourcesDep,
    viewer: ViewerDep,
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    """One of my visits: check-in, check-out and its tasks; anyone else's is the plain 404 page."""
    _carer_only(viewer)
    async with resources.pool.acquire() as conn:
        card = await visit_views.carer_visit(conn, viewer, visit_id, now=now_utc())
    said = DONE_WORDS.get(done or "", "")
    return page(request, "carer_visit.html", viewer=viewer, card=card, done=said, active="carer")


async def _phone(
    kind: str, visit_id: UUID, request: Request, resources: ResourcesDep, viewer: Viewer
) -> Response:
    _carer_only(viewer)
    body = forms.phone_check(await read_form(request))
    handler = visits_api.check_in if kind == "check_in" else visits_api.check_out
    await handler(visit_id, body, resources.pool, viewer.caller, resources.settings)
    return RedirectResponse(f"/console/carer/visits/{visit_id}?done={kind}", status_code=303)


@router.post("/carer/visits/{visit_id}/check-in")
async def check_in(visit_id: UUID, request: Request, resources: ResourcesDep, viewer: ActingDep) -> Response:
    """Check in to my visit with the location fix the browser gave (if it gave one)."""
    return await _phone("check_in", visit_id, request, resources, viewer)


@router.post("/carer/visits/{visit_id}/check-out")
async def check_out(visit_id: UUID, request: Request, resources: ResourcesDep, viewer: ActingDep) -> Response:
    """Check out of my visit with the location fix the browser gave (if it gave one)."""
    return await _phone("check_out", visit_id, request, resources, viewer)


@router.post("/carer/visits/{visit_id}/tasks")
async def task(visit_id: UUID, request: Request, resources: ResourcesDep, viewer: ActingDep) -> Response:
    """Mark one of my visit's tasks done or not done, with a note."""
    _carer_only(viewer)
    body = forms.task(await read_form(request))
    await visits_api.record_task(visit_id, body, resources.pool, viewer.caller)
    return RedirectResponse(f"/console/carer/visits/{visit_id}?done=task", status_code=303)
