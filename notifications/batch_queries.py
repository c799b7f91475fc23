"""Notifications SQL for the dispatcher's work, many rows a statement: chains started, steps planned and
deliveries taken and recorded a batch at a time (a burst of alerts costs a few statements a batch rather
than a dozen a delivery).

Rows go in as parallel arrays (unnest); jsonb goes in as text and is cast, so the arrays need no codec.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg


@dataclass(frozen=True, slots=True)
class NewDelivery:
    """An alert's delivery a step makes, with the log entry it starts with (queued or deferred)."""

    alert_id: UUID
    round: int
    step: int
    recipient: str
    user_id: UUID | None
    contact_point_id: UUID
    channel: str
    address: str
    payload: str  # JSON
    status: str
    next_attempt_at: datetime
    deferred_reason: str | None
    event: str
    detail: str


# An acknowledgement link a message carries: its token's hash, the alert, to whom (user, channel:address),
# until when.
AckLink = tuple[bytes, UUID, UUID | None, str, datetime]


@dataclass(frozen=True, slots=True)
class Result:
    """How one attempt on a delivery ended: sent/delivered/cancelled, or failed (retry_at: queued again),
    its log entries (event, detail) and the acknowledgement link its message carried, if any."""

    delivery_id: UUID
    status: str
    error: str | None = None
    retry_at: datetime | None = None
    log: Sequence[tuple[str, str]] = ()
    link: AckLink | None = None


@dataclass(frozen=True, slots=True)
class Move:
    """Where a chain goes next (next_at None: it has sent its last step and is done)."""

    alert_id: UUID
    round: int
    step: int
    next_at: datetime | None
    reached_last: bool


async def insert_chains(
    conn: asyncpg.Connection,
    *,
    alert_ids: list[UUID],
    home_ids: list[UUID],
    policies: list[str],
    next_ats: list[datetime],
    at: datetime,
) -> set[UUID]:
    """Start alerts' chains (once: an alert with a chain keeps it); the alerts whose chain was started."""
    rows = await conn.fetch(
        """
        INSERT INTO notification_chains (alert_id, home_id, policy, next_at, started_at)
        SELECT a, h, p::jsonb, n, $5 FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::timestamptz[])
            AS t(a, h, p, n)
        ON CONFLICT (alert_id) DO NOTHING RETURNING alert_id
        """,
        alert_ids,
        home_ids,
        policies,
        next_ats,
        at,
    )
    return {r["alert_id"] for r in rows}


async def hurry_chains(conn: asyncpg.Connection, *, alert_ids: list[UUID], at: datetime) -> None:
    """Bring running chains' next step forward to `at` (never later than it was)."""
    await conn.execute(
        """
        UPDATE notification_chains SET next_at = LEAST(next_at, $2), updated_at = $2
        WHERE alert_id = ANY($1::uuid[]) AND state = 'running'
        """,
        alert_ids,
        at,
    )


async def org_webhooks(conn: asyncpg.Connection, *, contact_point_ids: list[UUID]) -> list[asyncpg.Record]:
    """The verified webhooks among these contact points (the caller checks whose organisation each is)."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT * FROM notification_contact_points
        WHERE id = ANY($1::uuid[]) AND organisation_id IS NOT NULL AND channel = 'webhook'
          AND verified_at IS NOT NULL
        """,
        contact_point_ids,
    )
    return rows


async def insert_deliveries(
    conn: asyncpg.Connection, *, rows: Sequence[NewDelivery], at: datetime
) -> set[tuple[UUID, str, str]]:
    """Queue alerts' deliveries with their first log entry; a delivery whose key (alert, round, step,
    recipient, channel) exists already is skipped. Returns the (alert, recipient, channel) queued."""
    if not rows:
        return set()
    columns = [[getattr(r, f.name) for r in rows] for f in fields(NewDelivery)]
    added = await conn.fetch(
        """
        WITH planned AS (
            SELECT * FROM unnest($1::uuid[], $2::int[], $3::int[], $4::text[], $5::uuid[], $6::uuid[],
                                 $7::text[], $8::text[], $9::text[], $10::text[], $11::timestamptz[],
                                 $12::text[], $13::text[], $14::text[]) WITH ORDINALITY
                AS p(alert_id, round, step, recipient, user_id, contact_point_id, channel, address, payload,
                     status, next_attempt_at, deferred_reason, event, detail, n)
        ),
        added AS (
            INSERT INTO notification_deliveries (purpose, alert_id, round, step, recipient, user_id,
                contact_point_id, channel, address, payload, status, next_attempt_at, deferred_reason,
                created_at)
            SELECT 'alert', alert_id, round, step, recipient, user_id, contact_point_id, channel, address,
                   payload::jsonb, status, next_attempt_at, deferred_reason, $15
            FROM planned ORDER BY n
            ON CONFLICT DO NOTHING
            RETURNING id, alert_id, round, step, recipient, channel
        ),
        logged AS (
            INSERT INTO notification_attempts (delivery_id, at, event, detail)
            SELECT a.id, $15, p.event, p.detail
            FROM added a JOIN planned p USING (alert_id, round, step, recipient, channel) ORDER BY p.n
        )
        SELECT alert_id, recipient, channel FROM added
        """,
        *columns,
        at,
    )
    return {(r["alert_id"], r["recipient"], r["channel"]) for r in added}


async def move_chains(conn: asyncpg.Connection, *, moves: Sequence[Move], at: datetime) -> None:
    """Set where each chain goes next; a chain whose next_at is None is done."""
    await conn.execute(
        """
        UPDATE notification_chains c SET round = m.round, next_step = m.step, next_at = m.next_at,
            state = CASE WHEN m.next_at IS NULL THEN 'done' ELSE c.state END,
            reached_last = c.reached_last OR m.reached_last, updated_at = $6
        FROM unnest($1::uuid[], $2::int[], $3::int[], $4::timestamptz[], $5::bool[])
            AS m(alert_id, round, step, next_at, reached_last)
        WHERE c.alert_id = m.alert_id
        """,
        [m.alert_id for m in moves],
        [m.round for m in moves],
        [m.step for m in moves],
        [m.next_at for m in moves],
        [m.reached_last for m in moves],
        at,
    )


async def take_deliveries(conn: asyncpg.Connection, *, at: datetime, limit: int) -> list[asyncpg.Record]:
    """The most overdue queued deliveries nobody else is sending, locked (held while they are sent), each
    with its alert and home."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT d.*, a.status AS alert_status, a.home_id, a.organisation_id, p.secret, a.kind, a.severity,
               a.title, a.explanation, a.room, a.triggered_at, h.name AS home_name,
               h.address AS home_address, h.timezone
        FROM notification_deliveries d LEFT JOIN alerts a ON a.id = d.alert_id
        LEFT JOIN homes h ON h.id = a.home_id
        LEFT JOIN notification_contact_points p ON p.id = d.contact_point_id
        WHERE d.status = 'queued' AND d.next_attempt_at <= $1
        ORDER BY d.next_attempt_at LIMIT $2 FOR UPDATE OF d SKIP LOCKED
        """,
        at,
        limit,
    )
    return rows


async def record_results(conn: asyncpg.Connection, *, results: Sequence[Result], at: datetime) -> None:
    """Record attempts' outcomes, their log entries and the links their messages carried, in one statement."""
    log = [(r.delivery_id, event, detail) for r in results for event, detail in r.log]
    links = [(r.delivery_id, *r.link) for r in results if r.link is not None]
    await conn.execute(
        """
        WITH linked AS (
            INSERT INTO notification_ack_links
                (delivery_id, token_hash, alert_id, user_id, sent_to, expires_at)
            SELECT * FROM unnest($5::uuid[], $6::bytea[], $7::uuid[], $8::uuid[], $9::text[],
                                 $10::timestamptz[])
        ),
        logged AS (
            INSERT INTO notification_attempts (delivery_id, at, event, detail)
            SELECT d, $11, e, t FROM unnest($12::uuid[], $13::text[], $14::text[]) AS l(d, e, t)
        )
        UPDATE notification_deliveries d SET
            status = CASE WHEN o.status = 'failed' AND o.retry_at IS NOT NULL THEN 'queued' ELSE o.status END,
            attempts = d.attempts + CASE WHEN o.status IN ('sent', 'delivered', 'failed') THEN 1 ELSE 0 END,
            sent_at = CASE WHEN o.status IN ('sent', 'delivered') THEN $11 ELSE d.sent_at END,
            last_error = coalesce(o.error, d.last_error),
            next_attempt_at = coalesce(o.retry_at, d.next_attempt_at)
        FROM unnest($1::uuid[], $2::text[], $3::text[], $4::timestamptz[]) AS o(id, status, error, retry_at)
        WHERE d.id = o.id
        """,
        *_columns([(r.delivery_id, r.status, r.error, r.retry_at) for r in results], 4),
        *_columns(links, 6),
        at,
        *_columns(log, 3),
    )


def _columns(rows: Sequence[tuple[Any, ...]], width: int) -> list[list[Any]]:
    """Rows as parallel arrays (unnest's arguments), `width` of them even when there are no rows."""
    return [[row[i] for row in rows] for i in range(width)]
