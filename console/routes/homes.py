"""Homes: the coordinator's list with each home's state, a home's page, the family's view."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse

from api.deps import ResourcesDep
from console import service, timeline
from console.render import page
from console.route import ConsoleRoute
from console.session import ViewerDep

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)

Day = Annotated[date | None, Query(description="the home's day (04:00 to 04:00); default today")]


@router.get("/homes")
async def homes(request: Request, resources: ResourcesDep, viewer: ViewerDep) -> Response:
    """The homes the viewer sees, each with its state at a glance."""
    async with resources.pool.acquire() as conn:
        lines = await service.home_lines(conn, viewer)
    return page(request, "homes.html", viewer=viewer, lines=lines, active="homes")


@router.get("/homes/{home_id}")
async def home(
    home_id: UUID, request: Request, resources: ResourcesDep, viewer: ViewerDep, day: Day = None
) -> Response:
    """A home's day, its last 28 days, temperatures, devices and alerts."""
    async with resources.pool.acquire() as conn:
        view = await service.home_day(conn, viewer, home_id, day=day, now=service.now_utc())
    return page(
        request,
        "home.html",
        viewer=viewer,
        view=view,
        previous=view.day - timedelta(days=1),
        following=view.day + timedelta(days=1) if view.day < view.today else None,
        active="homes",
    )


@router.get("/homes/{home_id}/alerts")
async def home_alerts(
    home_id: UUID, request: Request, resources: ResourcesDep, viewer: ViewerDep
) -> Response:
    """A home's alerts alone (what its live pages swap in)."""
    async with resources.pool.acquire() as conn:
        now = service.now_utc()
        home_row, rows = await service.home_alerts(conn, viewer, home_id, now=now)
    start, end = timeline.day_bounds(timeline.home_day(now, home_row["timezone"]), home_row["timezone"])
    shown, earlier = service.split_alerts(rows, start, end)
    return page(
        request, "_home_alerts.html", viewer=viewer, alerts=shown, earlier=earlier, view={"home": home_row}
    )


@router.get("/family")
async def family_homes(request: Request, resources: ResourcesDep, viewer: ViewerDep) -> Response:
    """A family member's homes: straight to the one, or a choice of several."""
    async with resources.pool.acquire() as conn:
        lines = await service.home_lines(conn, viewer)
    if len(lines) == 1:
        return RedirectResponse(f"/console/family/{lines[0].row['id']}", status_code=303)
    return page(request, "homes.html", viewer=viewer, lines=lines, active="family")


@router.get("/family/{home_id}")
async def family(home_id: UUID, request: Request, resources: ResourcesDep, viewer: ViewerDep) -> Response:
    """The family's view, phone first: is she all right, today's timeline, the alerts and how they ended."""
    async with resources.pool.acquire() as conn:
        view = await service.home_day(conn, viewer, home_id, day=None, now=service.now_utc())
    return page(request, "family.html", viewer=viewer, view=view, active="family")
