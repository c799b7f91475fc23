"""What a person does to an alert, with its audit entry in the same transaction: used by the API's routes
and by the web console, so both record exactly the same thing."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from accounts.tenancy import Role
from alerts import service as alerts
from alerts.service import Alert
from api.security import Caller


async def acknowledge(pool: asyncpg.Pool, caller: Caller, alert_id: UUID, *, note: str | None) -> Alert:
    """Acknowledge an alert the caller sees (twice changes nothing), audited."""
    async with pool.acquire() as conn, conn.transaction():
        row = await alerts.visible_alert(
            conn, scope=caller.scope, alert_id=alert_id, role=caller.principal.role
        )
        alert = await alerts.acknowledge(conn, alert_id=alert_id, actor=caller.actor, note=note)
        await caller.audit(
            conn,
            action="alert.acknowledge",
            target_type="alert",
            target_id=alert_id,
            organisation_id=row["organisation_id"],
            detail={"note": note} if note else {},
        )
    return alert


async def resolve(
    pool: asyncpg.Pool, caller: Caller, alert_id: UUID, *, note: str, false_alarm: bool
) -> Alert:
    """Resolve an alert the caller sees with a note, perhaps as a false alarm, audited."""
    async with pool.acquire() as conn, conn.transaction():
        row = await alerts.visible_alert(
            conn, scope=caller.scope, alert_id=alert_id, role=caller.principal.role
        )
        alert = await alerts.resolve(
            conn, alert_id=alert_id, actor=caller.actor, note=note, false_alarm=false_alarm
        )
        await caller.audit(
            conn,
            action="alert.resolve",
            target_type="alert",
            target_id=alert_id,
            organisation_id=row["organisation_id"],
            detail={"note": note, "false_alarm": false_alarm},
        )
    return alert


async def assign(pool: asyncpg.Pool, caller: Caller, alert_id: UUID, *, assignee: UUID | None) -> Alert:
    """Give an alert to a coordinator or carer of its organisation, or to nobody (coordinators), audited."""
    async with pool.acquire() as conn, conn.transaction():
        row = await alerts.visible_alert(
            conn, scope=caller.scope, alert_id=alert_id, role=caller.principal.role
        )
        caller.require_role(Role.PLATFORM_ADMIN, Role.COORDINATOR, Role.INTEGRATION)
        if assignee is not None:
            org = row["organisation_id"]
            await alerts.require_assignee(conn, caller, organisation_id=org, assignee=assignee)
        alert = await alerts.assign(conn, alert_id=alert_id, actor=caller.actor, assignee=assignee)
        await caller.audit(
            conn,
            action="alert.assign",
            target_type="alert",
            target_id=alert_id,
            organisation_id=row["organisation_id"],
            detail={"assignee": str(assignee) if assignee else None},
        )
    return alert
