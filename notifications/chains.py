"""The escalation chains: started and stopped from the outbox, stepped when their next step is due.

Each function takes locked rows (FOR UPDATE SKIP LOCKED) in one transaction and commits its outcome with
it, so several dispatchers share the work and a crash redoes at most an uncommitted transaction; the
deliveries' unique key makes a redone step create nothing twice.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from notifications import queries
from notifications.policy import DEFAULT_POLICY, Policy, Position
from notifications.recipients import plan_step

log = logging.getLogger(__name__)


async def plan_outbox(conn: asyncpg.Connection, *, at: datetime, limit: int = 100) -> int:
    """Turn alert changes into chain starts and stops; returns how many outbox rows were planned."""
    async with conn.transaction():
        rows = await queries.take_outbox(conn, limit=limit)
        for row in rows:
            if row["action"] in ("raised", "escalated"):
                await _start_or_hurry(conn, row, at=at)
            else:
                await queries.cancel_queued(
                    conn, alert_id=row["alert_id"], reason=f"alert {row['action']}", at=at
                )
                await queries.stop_chain(conn, alert_id=row["alert_id"], reason=row["action"], at=at)
        if rows:
            await queries.delete_outbox(conn, ids=[r["id"] for r in rows])
    return len(rows)


async def _start_or_hurry(conn: asyncpg.Connection, row: asyncpg.Record, *, at: datetime) -> None:
    if row["status"] != "open":
        return
    stored = await queries.policy_for(conn, home_id=row["home_id"])
    policy = _stored_policy(stored) if stored is not None else DEFAULT_POLICY
    critical = row["severity"] == "critical"
    start = at if critical else at + timedelta(seconds=policy.noncritical_delay_s)
    started = await queries.insert_chain(
        conn, alert_id=row["alert_id"], home_id=row["home_id"], policy=policy.to_json(), at=at, next_at=start
    )
    if not started and critical:
        # Escalated to critical while waiting out a non-critical delay: start now.
        await queries.hurry_chain(conn, alert_id=row["alert_id"], at=at)


def _stored_policy(row: asyncpg.Record) -> Policy:
    return Policy.from_json(
        {"steps": row["steps"], "repeats": row["repeats"], "noncritical_delay_s": row["noncritical_delay_s"]}
    )


async def step_chains(conn: asyncpg.Connection, *, at: datetime, limit: int = 50) -> int:
    """Send the due steps of running chains; returns how many steps were taken."""
    async with conn.transaction():
        chains = await queries.due_chains(conn, at=at, limit=limit)
        for chain in chains:
            if chain["alert_status"] != "open":
                await queries.stop_chain(
                    conn, alert_id=chain["alert_id"], reason=chain["alert_status"], at=at
                )
                continue
            await _take_step(conn, chain, at=at)
    return len(chains)


async def _take_step(conn: asyncpg.Connection, chain: asyncpg.Record, *, at: datetime) -> None:
    policy = Policy.from_json(chain["policy"])
    here = Position(chain["round"], chain["next_step"])
    step = policy.steps[here.step]
    planned = await plan_step(
        conn,
        step=step,
        home_id=chain["home_id"],
        organisation_id=chain["organisation_id"],
        kind=chain["kind"],
        severity=chain["severity"],
        at=at,
    )
    reachable = 0
    for item in planned:
        delivery_id = await queries.insert_delivery(
            conn,
            purpose="alert",
            alert_id=chain["alert_id"],
            round=here.round,
            step=here.step,
            recipient=item.recipient,
            user_id=item.user_id,
            contact_point_id=item.contact_point_id,
            channel=item.channel,
            address=item.address,
            payload=_payload(item.payload, step.wait_s, here.is_last(policy)),
            status=item.status,
            next_attempt_at=item.send_at,
            deferred_reason=item.deferred_reason,
            created_at=at,
        )
        if delivery_id is None:
            continue
        event = "queued" if item.deferred_reason is None else "deferred"
        detail = item.deferred_reason or ""
        if item.deferred_reason == "quiet hours":
            detail = f"quiet hours: until {item.send_at.isoformat()}"
        await queries.log_attempt(conn, delivery_id=delivery_id, at=at, event=event, detail=detail)
        reachable += item.status == "queued" and item.deferred_reason is None
    following = here.following(policy)
    if following is None:
        await queries.move_chain(
            conn,
            alert_id=chain["alert_id"],
            round=here.round,
            step=here.step,
            next_at=None,
            reached_last=True,
            at=at,
        )
        return
    # Nobody of this step can be reached now (no verified point, an outsider, quiet hours): go on at once.
    wait = timedelta(seconds=step.wait_s) if reachable else timedelta(0)
    await queries.move_chain(
        conn,
        alert_id=chain["alert_id"],
        round=following.round,
        step=following.step,
        next_at=at + wait,
        reached_last=False,
        at=at,
    )


def _payload(base: dict[str, Any], wait_s: float, last: bool) -> dict[str, Any]:
    return {**base, "wait_s": None if last else wait_s}
