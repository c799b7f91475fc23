"""The coordinator's visits board: today's visits of their organisation with live status and verdicts,
refreshed when an alert arrives (late, missed and the other visit alerts are alerts) and every half
minute (a visit turns late with the clock alone)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from api.deps import ResourcesDep
from console import visit_views
from console.render import page
from console.route import ConsoleRoute
from console.routes.board import staff_only
from console.service import now_utc
from console.session import ViewerDep

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)


@router.get("/visits")
async def visits_board(request: Request, resources: ResourcesDep, viewer: ViewerDep) -> Response:
    """Today's visits board."""
    staff_only(viewer)
    async with resources.pool.acquire() as conn:
        board = await visit_views.board(conn, viewer, now=now_utc())
    return page(request, "visits.html", viewer=viewer, board=board, active="visits")


@router.get("/visits/live")
async def visits_live(request: Request, resources: ResourcesDep, viewer: ViewerDep) -> Response:
    """The board's list alone (what the live page swaps in)."""
    staff_only(viewer)
    async with resources.pool.acquire() as conn:
        board = await visit_views.board(conn, viewer, now=now_utc())
    return page(request, "_visits_live.html", viewer=viewer, board=board)
