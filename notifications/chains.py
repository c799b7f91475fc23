"""The escalation chains: started and stopped from the outbox, stepped when their next step is due.

Each function takes locked rows (FOR UPDATE SKIP LOCKED) in one transaction and commits its outcome with
it, so several dispatchers share the work and a crash redoes at most an uncommitted transaction; the
deliveries' unique key makes a redone step create nothing twice.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import orjson

from notifications import batch_queries, queries
from notifications.batch_queries import Move, NewDelivery
from notifications.policy import DEFAULT_POLICY, Policy, Position, Step
from notifications.recipients import Planned, StepOf, plan_steps

log = logging.getLogger(__name__)


async def plan_outbox(conn: asyncpg.Connection, *, at: datetime, limit: int = 500) -> int:
    """Turn alert changes into chain starts and stops; returns how many outbox rows were planned."""
    async with conn.transaction():
        rows = await queries.take_outbox(conn, limit=limit)
        # An alert's status only moves on from open, so an open alert has no stop among these rows and a
        # stopped one starts nothing: the starts can all go first, together.
        starts = [r for r in rows if r["action"] in ("raised", "escalated") and r["status"] == "open"]
        if starts:
            await _start_or_hurry(conn, starts, at=at)
        for row in rows:
            if row["action"] not in ("raised", "escalated"):
                await queries.cancel_queued(
                    conn, alert_id=row["alert_id"], reason=f"alert {row['action']}", at=at
                )
                await queries.stop_chain(conn, alert_id=row["alert_id"], reason=row["action"], at=at)
        if rows:
            await queries.delete_outbox(conn, ids=[r["id"] for r in rows])
    return len(rows)


async def _start_or_hurry(conn: asyncpg.Connection, rows: list[asyncpg.Record], *, at: datetime) -> None:
    first = list({r["alert_id"]: r for r in reversed(rows)}.values())  # each alert once, its first row
    stored = await queries.policies_for(conn, home_ids=list({r["home_id"] for r in first}))
    policies = {p["for_home"]: Policy.from_row(p) for p in stored}
    chosen = [policies.get(r["home_id"], DEFAULT_POLICY) for r in first]
    started = await batch_queries.insert_chains(
        conn,
        alert_ids=[r["alert_id"] for r in first],
        home_ids=[r["home_id"] for r in first],
        policies=[orjson.dumps(p.to_json()).decode() for p in chosen],
        next_ats=[_start_at(r, p, at=at) for r, p in zip(first, chosen, strict=True)],
        at=at,
    )
    # Escalated to critical while waiting out a non-critical delay: start now.
    hurry = [r["alert_id"] for r in first if r["severity"] == "critical" and r["alert_id"] not in started]
    if hurry:
        await batch_queries.hurry_chains(conn, alert_ids=hurry, at=at)


def _start_at(row: asyncpg.Record, policy: Policy, *, at: datetime) -> datetime:
    return at if row["severity"] == "critical" else at + timedelta(seconds=policy.noncritical_delay_s)


async def step_chains(conn: asyncpg.Connection, *, at: datetime, limit: int = 200) -> int:
    """Send the due steps of running chains; returns how many steps were taken."""
    async with conn.transaction():
        chains = await queries.due_chains(conn, at=at, limit=limit)
        for chain in chains:
            if chain["alert_status"] != "open":
                await queries.stop_chain(
                    conn, alert_id=chain["alert_id"], reason=chain["alert_status"], at=at
                )
        running = [c for c in chains if c["alert_status"] == "open"]
        if running:
            await _take_steps(conn, running, at=at)
    return len(chains)


async def _take_steps(conn: asyncpg.Connection, chains: list[asyncpg.Record], *, at: datetime) -> None:
    """Plan and queue the due step of each chain, and move each on, in a few statements for them all."""
    policies = [Policy.from_json(c["policy"]) for c in chains]
    heres = [Position(c["round"], c["next_step"]) for c in chains]
    steps = [p.steps[h.step] for p, h in zip(policies, heres, strict=True)]
    wanted = [
        StepOf(step, c["home_id"], c["organisation_id"], c["kind"], c["severity"])
        for c, step in zip(chains, steps, strict=True)
    ]
    planned = await plan_steps(conn, wanted, at=at)
    rows = [
        _delivery(c["alert_id"], here, item, step.wait_s, here.is_last(policy))
        for c, policy, here, step, items in zip(chains, policies, heres, steps, planned, strict=True)
        for item in items
    ]
    queued = await batch_queries.insert_deliveries(conn, rows=rows, at=at)
    moves = []
    for c, policy, here, step, items in zip(chains, policies, heres, steps, planned, strict=True):
        reachable = any(
            (c["alert_id"], i.recipient, i.channel) in queued
            and i.status == "queued"
            and i.deferred_reason is None
            for i in items
        )
        moves.append(_move(c["alert_id"], policy, here, step, reachable=reachable, at=at))
    await batch_queries.move_chains(conn, moves=moves, at=at)


def _delivery(alert_id: UUID, here: Position, item: Planned, wait_s: float, last: bool) -> NewDelivery:
    detail = item.deferred_reason or ""
    if item.deferred_reason == "quiet hours":
        detail = f"quiet hours: until {item.send_at.isoformat()}"
    return NewDelivery(
        alert_id=alert_id,
        round=here.round,
        step=here.step,
        recipient=item.recipient,
        user_id=item.user_id,
        contact_point_id=item.contact_point_id,
        channel=item.channel,
        address=item.address,
        payload=orjson.dumps(_payload(item.payload, wait_s, last)).decode(),
        status=item.status,
        next_attempt_at=item.send_at,
        deferred_reason=item.deferred_reason,
        event="queued" if item.deferred_reason is None else "deferred",
        detail=detail,
    )


def _move(
    alert_id: UUID, policy: Policy, here: Position, step: Step, *, reachable: bool, at: datetime
) -> Move:
    following = here.following(policy)
    if following is None:
        return Move(alert_id, here.round, here.step, next_at=None, reached_last=True)
    # Nobody of this step can be reached now (no verified point, an outsider, quiet hours): go on at once.
    wait = timedelta(seconds=step.wait_s) if reachable else timedelta(0)
    return Move(alert_id, following.round, following.step, next_at=at + wait, reached_last=False)


def _payload(base: dict[str, Any], wait_s: float, last: bool) -> dict[str, Any]:
    return {**base, "wait_s": None if last else wait_s}
