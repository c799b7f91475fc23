"""Notifications: contact points, preferences, escalation policies, an alert's timeline, a test message,
the response report, and the one-time acknowledgement links (no login).

Every change goes to the audit log in the transaction that makes it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import asyncpg
from fastapi import APIRouter, Body, HTTPException, Path, Query, Request, Response
from fastapi.responses import HTMLResponse

from api import pagination
from api.deps import CallerDep, PoolDep, SettingsDep, client_address
from api.errors import problems
from api.security import Caller
from homes.service import managed_home, require_organisation
from kernel.strict import TimeText
from notifications import report
from notifications import service as notifications
from notifications.acklinks import acknowledge_by_link
from notifications.channels.webpush import application_server_key
from notifications.errors import LinkInvalid
from notifications.messages import render
from notifications.policy import Policy
from notifications.process import vapid_key
from notifications.schemas import (
    AckOut,
    ContactPointIn,
    ContactPointOut,
    PolicyIn,
    PolicyOut,
    PreferencesIn,
    PreferencesOut,
    PushKeyOut,
    QueuedOut,
    ReportRowOut,
    TestIn,
    TimelineOut,
    VerifyIn,
)

# An acknowledgement link's token: URL-safe base64 text.
Token = Annotated[str, Path(min_length=16, max_length=100, pattern=r"^[A-Za-z0-9_\-]+$")]

router = APIRouter(prefix="/v1", tags=["notifications"], responses=problems(401, 403, 404, 422))


def _point(row: asyncpg.Record, secret: str | None = None) -> ContactPointOut:
    return ContactPointOut(
        id=row["id"],
        user_id=row["user_id"],
        organisation_id=row["organisation_id"],
        channel=row["channel"],
        address=row["address"],
        label=row["label"],
        verified=row["verified_at"] is not None,
        created_at=row["created_at"],
        signing_secret=secret,
    )


def _now() -> datetime:
    return datetime.now(UTC)


@router.get("/contact-points", response_model=list[ContactPointOut])
async def list_contact_points(pool: PoolDep, caller: CallerDep) -> list[ContactPointOut]:
    """The caller's contact points (and, for coordinators, their organisation's webhooks)."""
    async with pool.acquire() as conn:
        return [_point(r) for r in await notifications.list_points(conn, caller)]


@router.post("/contact-points", response_model=ContactPointOut, status_code=201)
async def add_contact_point(
    body: ContactPointIn, pool: PoolDep, caller: CallerDep, settings: SettingsDep
) -> ContactPointOut:
    """Add a contact point; a code is sent to it, and it is used once verified with that code."""
    async with pool.acquire() as conn, conn.transaction():
        row, secret = await notifications.add_point(
            conn, caller, body, at=_now(), code_minutes=settings.notify_verify_minutes
        )
        await _audit(conn, caller, "contact_point.add", row, {"channel": body.channel})
    return _point(row, secret)


@router.post("/contact-points/{contact_point_id}/verify", response_model=ContactPointOut)
async def verify_contact_point(
    contact_point_id: UUID, body: VerifyIn, pool: PoolDep, caller: CallerDep
) -> ContactPointOut:
    """Verify a contact point with the code that was sent to it."""
    async with pool.acquire() as conn:
        row = await notifications.verify_point(conn, caller, contact_point_id, body.code, at=_now())
        await _audit(conn, caller, "contact_point.verify", row, {})
    return _point(row)


@router.delete("/contact-points/{contact_point_id}", status_code=204)
async def remove_contact_point(contact_point_id: UUID, pool: PoolDep, caller: CallerDep) -> None:
    """Remove a contact point."""
    async with pool.acquire() as conn, conn.transaction():
        row = await notifications.remove_point(conn, caller, contact_point_id)
        await _audit(conn, caller, "contact_point.remove", row, {})


async def _audit(
    conn: asyncpg.Connection, caller: Caller, action: str, row: asyncpg.Record, detail: dict[str, Any]
) -> None:
    await caller.audit(
        conn,
        action=action,
        target_type="contact_point",
        target_id=row["id"],
        organisation_id=row["organisation_id"] or caller.principal.organisation_id,
        detail=detail,
    )


@router.get("/me/notification-preferences", response_model=PreferencesOut)
async def get_preferences(pool: PoolDep, caller: CallerDep) -> PreferencesOut:
    """The caller's notification preferences."""
    async with pool.acquire() as conn:
        return PreferencesOut.model_validate(await notifications.preferences(conn, caller))


@router.put("/me/notification-preferences", response_model=PreferencesOut)
async def put_preferences(body: PreferencesIn, pool: PoolDep, caller: CallerDep) -> PreferencesOut:
    """Replace the caller's preferences: kinds, severities, channels, quiet hours, the daily digest."""
    async with pool.acquire() as conn, conn.transaction():
        prefs = await notifications.set_preferences(conn, caller, body)
        await caller.audit(
            conn,
            action="notification_preferences.set",
            target_type="user",
            target_id=caller.principal.id,
            organisation_id=caller.principal.organisation_id,
            detail=body.model_dump(mode="json"),
        )
    return PreferencesOut.model_validate(prefs)


@router.post("/me/test-notification", response_model=QueuedOut, status_code=202)
async def test_notification(
    pool: PoolDep,
    caller: CallerDep,
    body: Annotated[TestIn | None, Body(examples=[{"channel": "email"}, {}])] = None,
) -> QueuedOut:
    """Send a test message to the caller's verified contact points (of one channel, if given)."""
    async with pool.acquire() as conn, conn.transaction():
        queued = await notifications.queue_test(
            conn, caller, channel=body.channel if body else None, at=_now()
        )
    return QueuedOut(queued=queued)


def _policy_out(policy: Policy, source: str) -> PolicyOut:
    data = policy.to_json()
    return PolicyOut(
        steps=data["steps"],
        repeats=policy.repeats,
        noncritical_delay_s=policy.noncritical_delay_s,
        source=source,
    )


@router.get("/homes/{home_id}/escalation-policy", response_model=PolicyOut)
async def get_home_policy(home_id: UUID, pool: PoolDep, caller: CallerDep) -> PolicyOut:
    """The policy the home's alerts escalate by: its own, its organisation's default, or the built-in one."""
    async with pool.acquire() as conn:
        policy, source = await notifications.policy_in_force(conn, caller, home_id=home_id)
    return _policy_out(policy, source)


@router.put("/homes/{home_id}/escalation-policy", response_model=PolicyOut)
async def put_home_policy(home_id: UUID, body: PolicyIn, pool: PoolDep, caller: CallerDep) -> PolicyOut:
    """Give a home its own escalation policy (coordinators)."""
    async with pool.acquire() as conn, conn.transaction():
        policy = await notifications.set_policy(conn, caller, body, home_id=home_id)
        await _audit_policy(conn, caller, "home", home_id, body)
    return _policy_out(policy, "home")


@router.delete("/homes/{home_id}/escalation-policy", status_code=204)
async def delete_home_policy(home_id: UUID, pool: PoolDep, caller: CallerDep) -> None:
    """Remove a home's own policy: it escalates by its organisation's default again."""
    async with pool.acquire() as conn, conn.transaction():
        await notifications.delete_policy(conn, caller, home_id=home_id)
        await _audit_policy(conn, caller, "home", home_id, None)


@router.get("/organisations/{organisation_id}/escalation-policy", response_model=PolicyOut)
async def get_org_policy(organisation_id: UUID, pool: PoolDep, caller: CallerDep) -> PolicyOut:
    """The organisation's default escalation policy (or the built-in one)."""
    async with pool.acquire() as conn:
        policy, source = await notifications.policy_in_force(
            conn, caller, organisation_id=organisation_id, home_id=None
        )
    return _policy_out(policy, source)


@router.put("/organisations/{organisation_id}/escalation-policy", response_model=PolicyOut)
async def put_org_policy(
    organisation_id: UUID, body: PolicyIn, pool: PoolDep, caller: CallerDep
) -> PolicyOut:
    """Set the organisation's default escalation policy, for homes without their own (coordinators)."""
    async with pool.acquire() as conn, conn.transaction():
        policy = await notifications.set_policy(
            conn, caller, body, organisation_id=organisation_id, home_id=None
        )
        await _audit_policy(conn, caller, "organisation", organisation_id, body)
    return _policy_out(policy, "organisation")


async def _audit_policy(
    conn: asyncpg.Connection, caller: Caller, kind: str, target: UUID, body: PolicyIn | None
) -> None:
    org = (
        target
        if kind == "organisation"
        else await conn.fetchval("SELECT organisation_id FROM homes WHERE id = $1", target)
    )
    await caller.audit(
        conn,
        action="escalation_policy.set" if body is not None else "escalation_policy.remove",
        target_type=kind,
        target_id=target,
        organisation_id=org,
        detail=body.model_dump(mode="json") if body is not None else {},
    )


@router.get("/alerts/{alert_id}/notifications", response_model=TimelineOut)
async def alert_notifications(alert_id: UUID, pool: PoolDep, caller: CallerDep) -> TimelineOut:
    """Who was told what about the alert, when, how each attempt went, and who acknowledged."""
    async with pool.acquire() as conn:
        return TimelineOut.model_validate(await notifications.timeline(conn, caller, alert_id))


_CSV_DOC: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}, "example": report.as_csv([])}}}
}


@router.get(
    "/organisations/{organisation_id}/notification-report",
    response_model=list[ReportRowOut],
    responses=_CSV_DOC,
)
async def notification_report(
    organisation_id: UUID,
    pool: PoolDep,
    caller: CallerDep,
    since: Annotated[TimeText, Query(description="alerts whose event is at or after this")],
    until: Annotated[TimeText, Query(description="and before this")],
    home_id: Annotated[UUID | None, Query(description="one home of the organisation")] = None,
    format: Annotated[Literal["json", "csv"], Query(description="json (default) or csv")] = "json",
) -> Any:
    """Response times per severity: event to first notification, to acknowledgement, to resolution."""
    start, end = pagination.aware_time(since), pagination.aware_time(until)
    if start >= end:
        raise HTTPException(422, "since must be before until")
    caller.require_manager(organisation_id)
    async with pool.acquire() as conn:
        await require_organisation(conn, organisation_id)
        if home_id is not None:
            home = await managed_home(conn, caller, home_id)
            if home["organisation_id"] != organisation_id:
                raise HTTPException(404, f"home {home_id} not found")
        rows = await report.response_report(
            conn, organisation_id=organisation_id, home_id=home_id, since=start, until=end
        )
    if format == "csv":
        return Response(report.as_csv(rows), media_type="text/csv")
    return [ReportRowOut.model_validate(r) for r in rows]


@router.get("/notifications/webpush-key", response_model=PushKeyOut)
async def webpush_key(pool: PoolDep, caller: CallerDep, settings: SettingsDep) -> PushKeyOut:
    """The VAPID application server key to subscribe a browser to Web Push with."""
    return PushKeyOut(application_server_key=application_server_key(await vapid_key(pool, settings)))


ack_router = APIRouter(prefix="/v1/notifications/ack", tags=["notifications"], responses=problems(404, 422))


@ack_router.get("/{token}", response_class=HTMLResponse)
async def ack_page(token: Token) -> HTMLResponse:
    """The page a link opens: a button, so a mail scanner that follows links acknowledges nothing."""
    return HTMLResponse(render("ack_page.html", action=f"/v1/notifications/ack/{token}"))


@ack_router.post("/{token}", response_model=AckOut)
async def ack_with_link(token: Token, request: Request, pool: PoolDep) -> Any:
    """Acknowledge the alert the link was sent for: once, before it expires, no login; audited."""
    html = "text/html" in request.headers.get("accept", "")
    async with pool.acquire() as conn:
        try:
            done = await acknowledge_by_link(
                conn,
                token=token,
                at=_now(),
                client_addr=client_address(request),
                user_agent=request.headers.get("user-agent"),
            )
        except LinkInvalid as exc:
            if not html:
                raise
            page = render("ack_done.html", heading="This link does not work", text=str(exc))
            return HTMLResponse(page, status_code=404)
    if html:
        text = (
            "Thank you: everyone can see that you are dealing with it."
            if not done.already
            else (f"The alert was already {done.status}.")
        )
        return HTMLResponse(render("ack_done.html", heading="Acknowledged", text=text))
    return AckOut(alert_id=done.alert_id, status=done.status, already=done.already)
