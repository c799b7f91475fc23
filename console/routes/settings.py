"""A person's own notification settings: where they are reached (add, verify with the code sent there,
remove), what they hear about, quiet hours and the daily digest. The writes go through the API's own
handlers, so the notifications service decides and the audit log records exactly as through the API."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse

from api.deps import ResourcesDep
from api.routes import notifications as notifications_api
from console import forms
from console.errors import InvalidForm
from console.render import page
from console.route import ConsoleRoute
from console.session import ActingDep, Viewer, ViewerDep, read_form, read_form_lists
from notifications import service as notifications
from notifications.errors import CodeInvalid
from notifications.errors import InvalidInput as NotificationInvalid
from notifications.schemas import VerifyIn

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)

DONE_WORDS = {
    "added": "Added. We have sent a code there: enter it below to start using it.",
    "verified": "Verified: alerts can reach you there now.",
    "removed": "Removed.",
    "saved": "Your preferences are saved.",
}
SEVERITIES = [
    ("critical", "Critical only (an alarm pressed, a fall, smoke, water)"),
    ("high", "High and critical"),
    ("medium", "Medium and above"),
    ("low", "Everything"),
]
CHANNELS = [("email", "Email"), ("sms", "Text message"), ("webpush", "Browser notifications")]


async def _settings(
    request: Request, resources: ResourcesDep, viewer: Viewer, *, status: int = 200, **extra: str
) -> Response:
    async with resources.pool.acquire() as conn:
        points = [
            p
            for p in await notifications.list_points(conn, viewer.caller)
            if p["user_id"] == viewer.caller.principal.id
        ]
        prefs = await notifications.preferences(conn, viewer.caller)
    context = {"done": "", "error": ""} | extra
    return page(
        request,
        "settings.html",
        status=status,
        viewer=viewer,
        points=points,
        prefs=prefs,
        severities=SEVERITIES,
        channels=CHANNELS,
        hours=range(24),
        active="settings",
        **context,
    )


@router.get("/settings")
async def settings_page(
    request: Request,
    resources: ResourcesDep,
    viewer: ViewerDep,
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    """The person's contact points and preferences."""
    return await _settings(request, resources, viewer, done=DONE_WORDS.get(done or "", ""))


def _back(done: str) -> Response:
    return RedirectResponse(f"/console/settings?done={done}", status_code=303)


async def _refused(request: Request, resources: ResourcesDep, viewer: Viewer, exc: Exception) -> Response:
    """The settings page again, saying what to correct (422)."""
    return await _settings(request, resources, viewer, error=str(exc), status=422)


@router.post("/settings/contact-points")
async def add_point(request: Request, resources: ResourcesDep, viewer: ActingDep) -> Response:
    """Add an email address or phone number; a code is sent to it."""
    try:
        body = forms.contact_point(await read_form(request))
        await notifications_api.add_contact_point(body, resources.pool, viewer.caller, resources.settings)
    except (InvalidForm, NotificationInvalid) as exc:
        return await _refused(request, resources, viewer, exc)
    return _back("added")


@router.post("/settings/contact-points/{point_id}/verify")
async def verify_point(
    point_id: UUID, request: Request, resources: ResourcesDep, viewer: ActingDep
) -> Response:
    """Verify one of the person's contact points with the code sent to it."""
    code = (await read_form(request)).get("code", "")
    try:
        body = forms.body_of(VerifyIn, {"code": code})
        await notifications_api.verify_contact_point(point_id, body, resources.pool, viewer.caller)
    except (InvalidForm, CodeInvalid) as exc:
        return await _refused(request, resources, viewer, exc)
    return _back("verified")


@router.post("/settings/contact-points/{point_id}/remove")
async def remove_point(point_id: UUID, resources: ResourcesDep, viewer: ActingDep) -> Response:
    """Remove one of the person's contact points (anyone else's is the plain 404 page)."""
    await notifications_api.remove_contact_point(point_id, resources.pool, viewer.caller)
    return _back("removed")


@router.post("/settings/preferences")
async def save_preferences(request: Request, resources: ResourcesDep, viewer: ActingDep) -> Response:
    """What the person hears about, how, and when not."""
    fields = await read_form_lists(request)
    try:
        async with resources.pool.acquire() as conn:
            current = await notifications.preferences(conn, viewer.caller)
        body = forms.preferences(fields, current)
        await notifications_api.put_preferences(body, resources.pool, viewer.caller)
    except (InvalidForm, NotificationInvalid) as exc:
        return await _refused(request, resources, viewer, exc)
    return _back("saved")
