"""Notifications SQL: the outbox, chains, deliveries and their attempts, acknowledgement links.

Times are passed in (the dispatcher's clock) rather than taken from now(), so the escalation can be
driven by a hand-moved clock in tests and every timestamp of a chain comes from one clock.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

# Woken by the outbox trigger and by new deliveries (migrations/0015_notifications.sql).
CHANNEL = "telecare_notify"


async def take_outbox(conn: asyncpg.Connection, *, limit: int) -> list[asyncpg.Record]:
    """The oldest outbox rows no other dispatcher holds, locked until this transaction ends."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT o.id, o.alert_id, o.action, a.home_id, a.organisation_id, a.severity, a.status,
               a.triggered_at
        FROM notification_outbox o JOIN alerts a ON a.id = o.alert_id
        ORDER BY o.id LIMIT $1 FOR UPDATE OF o SKIP LOCKED
        """,
        limit,
    )
    return rows


async def delete_outbox(conn: asyncpg.Connection, *, ids: list[int]) -> None:
    """Remove planned outbox rows."""
    await conn.execute("DELETE FROM notification_outbox WHERE id = ANY($1::bigint[])", ids)


async def policy_for(conn: asyncpg.Connection, *, home_id: UUID) -> asyncpg.Record | None:
    """The home's own policy, else its organisation's default, else None."""
    found = await policies_for(conn, home_ids=[home_id])
    return found[0] if found else None


async def policies_for(conn: asyncpg.Connection, *, home_ids: list[UUID]) -> list[asyncpg.Record]:
    """policy_for of several homes: each home's policy row, with `for_home`, the home it applies to
    (homes with neither their own policy nor an organisation default are left out)."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT DISTINCT ON (h.id) h.id AS for_home, p.*
        FROM homes h JOIN notification_policies p ON p.organisation_id = h.organisation_id
            AND (p.home_id = h.id OR p.home_id IS NULL)
        WHERE h.id = ANY($1::uuid[])
        ORDER BY h.id, p.home_id IS NULL
        """,
        home_ids,
    )
    return rows


async def get_policy(
    conn: asyncpg.Connection, *, organisation_id: UUID, home_id: UUID | None
) -> asyncpg.Record | None:
    """The policy stored for exactly this home (or the organisation's default when home_id is None)."""
    return await conn.fetchrow(
        """
        SELECT * FROM notification_policies
        WHERE organisation_id = $1 AND home_id IS NOT DISTINCT FROM $2
        """,
        organisation_id,
        home_id,
    )


async def put_policy(
    conn: asyncpg.Connection,
    *,
    organisation_id: UUID,
    home_id: UUID | None,
    policy: dict[str, Any],
    by: UUID | None,
) -> asyncpg.Record:
    """Replace (or create) a home's policy or the organisation's default; returns the row."""
    await delete_policy(conn, organisation_id=organisation_id, home_id=home_id)
    return await conn.fetchrow(
        """
        INSERT INTO notification_policies (organisation_id, home_id, steps, repeats, noncritical_delay_s,
                                           updated_by)
        VALUES ($1, $2, $3, $4, $5, $6) RETURNING *
        """,
        organisation_id,
        home_id,
        policy["steps"],
        policy["repeats"],
        int(policy["noncritical_delay_s"]),
        by,
    )


async def delete_policy(conn: asyncpg.Connection, *, organisation_id: UUID, home_id: UUID | None) -> bool:
    """Remove a stored policy; whether there was one."""
    status: str = await conn.execute(
        "DELETE FROM notification_policies WHERE organisation_id = $1 AND home_id IS NOT DISTINCT FROM $2",
        organisation_id,
        home_id,
    )
    return status != "DELETE 0"


async def stop_chain(conn: asyncpg.Connection, *, alert_id: UUID, reason: str, at: datetime) -> None:
    """End a chain: nothing more is sent for the alert."""
    await conn.execute(
        """
        UPDATE notification_chains SET state = 'stopped', stop_reason = $2, next_at = NULL, updated_at = $3
        WHERE alert_id = $1 AND state = 'running'
        """,
        alert_id,
        reason,
        at,
    )


async def cancel_queued(conn: asyncpg.Connection, *, alert_id: UUID, reason: str, at: datetime) -> None:
    """Cancel the alert's deliveries not yet sent (those being sent right now are left to their sender)."""
    await conn.execute(
        """
        WITH gone AS (
            UPDATE notification_deliveries SET status = 'cancelled', last_error = $2
            WHERE id IN (SELECT id FROM notification_deliveries
                         WHERE alert_id = $1 AND status = 'queued' FOR UPDATE SKIP LOCKED)
            RETURNING id
        )
        INSERT INTO notification_attempts (delivery_id, at, event, detail)
        SELECT id, $3, 'cancelled', $2 FROM gone
        """,
        alert_id,
        reason,
        at,
    )


async def due_chains(conn: asyncpg.Connection, *, at: datetime, limit: int) -> list[asyncpg.Record]:
    """Running chains whose next step is due, locked (SKIP LOCKED), with their alert."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT c.*, a.status AS alert_status, a.severity, a.kind, a.organisation_id
        FROM notification_chains c JOIN alerts a ON a.id = c.alert_id
        WHERE c.state = 'running' AND c.next_at <= $1
        ORDER BY c.next_at LIMIT $2 FOR UPDATE OF c SKIP LOCKED
        """,
        at,
        limit,
    )
    return rows


async def verified_points(conn: asyncpg.Connection, *, user_ids: list[UUID]) -> list[asyncpg.Record]:
    """Verified contact points of these people, the most recently verified first per channel."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT DISTINCT ON (user_id, channel) * FROM notification_contact_points
        WHERE user_id = ANY($1::uuid[]) AND verified_at IS NOT NULL
        ORDER BY user_id, channel, verified_at DESC
        """,
        user_ids,
    )
    return rows


async def preferences(conn: asyncpg.Connection, *, user_ids: list[UUID]) -> list[asyncpg.Record]:
    """Stored preferences of these people (those without any take the defaults)."""
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT * FROM notification_preferences WHERE user_id = ANY($1::uuid[])", user_ids
    )
    return rows


async def insert_delivery(conn: asyncpg.Connection, **row: Any) -> UUID | None:
    """Queue one delivery; None when its key (alert, round, step, recipient, channel) already exists."""
    columns = ", ".join(row)
    marks = ", ".join(f"${i}" for i in range(1, len(row) + 1))
    return await conn.fetchval(  # type: ignore[no-any-return]
        f"INSERT INTO notification_deliveries ({columns}) VALUES ({marks})"
        " ON CONFLICT DO NOTHING RETURNING id",
        *row.values(),
    )


async def log_attempt(
    conn: asyncpg.Connection, *, delivery_id: UUID, at: datetime, event: str, detail: str = ""
) -> None:
    """Append to a delivery's log."""
    await conn.execute(
        "INSERT INTO notification_attempts (delivery_id, at, event, detail) VALUES ($1, $2, $3, $4)",
        delivery_id,
        at,
        event,
        detail,
    )


async def next_due(conn: asyncpg.Connection) -> datetime | None:
    """When the next queued delivery or chain step is due."""
    return await conn.fetchval(  # type: ignore[no-any-return]
        """
        SELECT LEAST((SELECT min(next_attempt_at) FROM notification_deliveries WHERE status = 'queued'),
                     (SELECT min(next_at) FROM notification_chains WHERE state = 'running'))
        """
    )


async def step_unreached(conn: asyncpg.Connection, *, alert_id: UUID, round: int, step: int) -> bool:
    """Whether nobody of a step has been reached and every one of its deliveries has failed at least once."""
    return bool(
        await conn.fetchval(
            """
            SELECT NOT EXISTS (SELECT 1 FROM notification_deliveries
                               WHERE alert_id = $1 AND round = $2 AND step = $3 AND purpose = 'alert'
                                 AND (status IN ('sent', 'delivered')
                                      OR (status = 'queued' AND attempts = 0 AND deferred_reason IS NULL)))
            """,
            alert_id,
            round,
            step,
        )
    )


async def chain_position(conn: asyncpg.Connection, *, alert_id: UUID) -> asyncpg.Record | None:
    """A running chain's round and next step."""
    return await conn.fetchrow(
        "SELECT round, next_step, next_at FROM notification_chains WHERE alert_id = $1 AND state = 'running'",
        alert_id,
    )


async def take_ack_link(conn: asyncpg.Connection, *, token_hash: bytes) -> asyncpg.Record | None:
    """A link by its hash, locked, with its alert's organisation."""
    return await conn.fetchrow(
        """
        SELECT l.*, a.organisation_id, a.home_id FROM notification_ack_links l
        JOIN alerts a ON a.id = l.alert_id WHERE l.token_hash = $1 FOR UPDATE OF l
        """,
        token_hash,
    )


async def use_ack_link(conn: asyncpg.Connection, *, token_hash: bytes, at: datetime, origin: str) -> None:
    """Spend a link."""
    await conn.execute(
        "UPDATE notification_ack_links SET used_at = $2, used_from = $3 WHERE token_hash = $1",
        token_hash,
        at,
        origin,
    )


async def get_key(conn: asyncpg.Connection, *, name: str) -> str | None:
    """A key the notifier keeps (e.g. the VAPID private key)."""
    return await conn.fetchval("SELECT value FROM notification_keys WHERE name = $1", name)  # type: ignore[no-any-return]


async def put_key_once(conn: asyncpg.Connection, *, name: str, value: str) -> str:
    """Store a key unless one exists (several processes may race); returns the one stored."""
    await conn.execute(
        "INSERT INTO notification_keys (name, value) VALUES ($1, $2) ON CONFLICT DO NOTHING", name, value
    )
    return await conn.fetchval("SELECT value FROM notification_keys WHERE name = $1", name)  # type: ignore[no-any-return]


async def alert_facts(conn: asyncpg.Connection, *, alert_id: UUID) -> asyncpg.Record | None:
    """An alert with its home's name and address."""
    return await conn.fetchrow(
        """
        SELECT a.*, h.name AS home_name, h.address, h.timezone FROM alerts a JOIN homes h ON h.id = a.home_id
        WHERE a.id = $1
        """,
        alert_id,
    )


async def chain_for(conn: asyncpg.Connection, *, alert_id: UUID) -> asyncpg.Record | None:
    """An alert's chain (any state)."""
    return await conn.fetchrow("SELECT * FROM notification_chains WHERE alert_id = $1", alert_id)
