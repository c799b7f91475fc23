"""SQL of what people set up: contact points and their verification, and preferences."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg


async def insert_point(
    conn: asyncpg.Connection,
    *,
    user_id: UUID | None,
    organisation_id: UUID | None,
    channel: str,
    address: str,
    label: str,
    secret: dict[str, Any],
) -> asyncpg.Record:
    """A new, unverified contact point."""
    return await conn.fetchrow(
        """
        INSERT INTO notification_contact_points (user_id, organisation_id, channel, address, label, secret)
        VALUES ($1, $2, $3, $4, $5, $6) RETURNING *
        """,
        user_id,
        organisation_id,
        channel,
        address,
        label,
        secret,
    )


async def set_code(
    conn: asyncpg.Connection, *, point_id: UUID, code_hash: bytes, expires_at: datetime
) -> None:
    """Give a point a new verification code (and a fresh count of tries)."""
    await conn.execute(
        """
        UPDATE notification_contact_points
        SET verify_code_hash = $2, verify_expires_at = $3, verify_attempts = 0 WHERE id = $1
        """,
        point_id,
        code_hash,
        expires_at,
    )


async def get_point(
    conn: asyncpg.Connection, *, point_id: UUID, for_update: bool = False
) -> asyncpg.Record | None:
    """One contact point, or None."""
    lock = " FOR UPDATE" if for_update else ""
    return await conn.fetchrow(f"SELECT * FROM notification_contact_points WHERE id = $1{lock}", point_id)


async def count_try(conn: asyncpg.Connection, *, point_id: UUID) -> None:
    """Count a wrong code."""
    await conn.execute(
        "UPDATE notification_contact_points SET verify_attempts = verify_attempts + 1 WHERE id = $1", point_id
    )


async def mark_verified(conn: asyncpg.Connection, *, point_id: UUID, at: datetime) -> asyncpg.Record:
    """The point may now be used."""
    return await conn.fetchrow(
        """
        UPDATE notification_contact_points
        SET verified_at = $2, verify_code_hash = NULL, verify_expires_at = NULL WHERE id = $1 RETURNING *
        """,
        point_id,
        at,
    )


async def delete_point(conn: asyncpg.Connection, *, point_id: UUID) -> None:
    """Remove a contact point (its past deliveries keep the address they were sent to)."""
    await conn.execute("DELETE FROM notification_contact_points WHERE id = $1", point_id)


async def list_points(
    conn: asyncpg.Connection, *, user_id: UUID | None, organisation_id: UUID | None
) -> list[asyncpg.Record]:
    """A person's points, and an organisation's webhooks when organisation_id is given."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT * FROM notification_contact_points
        WHERE user_id = $1 OR ($2::uuid IS NOT NULL AND organisation_id = $2)
        ORDER BY created_at, id
        """,
        user_id,
        organisation_id,
    )
    return rows


async def get_preferences(conn: asyncpg.Connection, *, user_id: UUID) -> asyncpg.Record | None:
    """A person's stored preferences, or None (the defaults)."""
    return await conn.fetchrow("SELECT * FROM notification_preferences WHERE user_id = $1", user_id)


async def put_preferences(
    conn: asyncpg.Connection, *, user_id: UUID, prefs: dict[str, Any]
) -> asyncpg.Record:
    """Replace a person's preferences."""
    names = list(prefs)
    marks = ", ".join(f"${i + 2}" for i in range(len(names)))
    updates = ", ".join(f"{n} = EXCLUDED.{n}" for n in names)
    return await conn.fetchrow(
        f"""
        INSERT INTO notification_preferences (user_id, {", ".join(names)}) VALUES ($1, {marks})
        ON CONFLICT (user_id) DO UPDATE SET {updates}, updated_at = now() RETURNING *
        """,
        user_id,
        *prefs.values(),
    )


async def timeline(conn: asyncpg.Connection, *, alert_id: UUID) -> list[asyncpg.Record]:
    """An alert's deliveries, oldest first, with the recipient's name and every attempt."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT d.*, coalesce(u.name, u.email, p.label, 'webhook') AS name,
               coalesce((SELECT jsonb_agg(jsonb_build_object('at', a.at, 'event', a.event, 'detail', a.detail)
                                          ORDER BY a.id)
                         FROM notification_attempts a WHERE a.delivery_id = d.id), '[]') AS log
        FROM notification_deliveries d LEFT JOIN users u ON u.id = d.user_id
        LEFT JOIN notification_contact_points p ON p.id = d.contact_point_id
        WHERE d.alert_id = $1 ORDER BY d.created_at, d.round, d.step, d.recipient, d.channel
        """,
        alert_id,
    )
    return rows
