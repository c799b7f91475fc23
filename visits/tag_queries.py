"""Carer tag SQL: the NFC tags an organisation gives its carers, and whose a tapped tag is."""

from __future__ import annotations

from uuid import UUID

import asyncpg


async def tag_owner(conn: asyncpg.Connection, *, tag_id: str, organisation_id: UUID) -> asyncpg.Record | None:
    """The active carer of the organisation whose live tag this is (id, name), or None."""
    return await conn.fetchrow(
        """
        SELECT u.id, u.name FROM carer_tags t JOIN users u ON u.id = t.user_id
        WHERE t.tag_id = $1 AND t.revoked_at IS NULL AND t.organisation_id = $2 AND u.active
        """,
        tag_id,
        organisation_id,
    )


async def insert_tag(
    conn: asyncpg.Connection, *, tag_id: str, user_id: UUID, organisation_id: UUID
) -> asyncpg.Record | None:
    """Give a tag to a carer; None if the tag id is live for someone already."""
    return await conn.fetchrow(
        """
        INSERT INTO carer_tags (tag_id, user_id, organisation_id) VALUES ($1, $2, $3)
        ON CONFLICT (tag_id) WHERE revoked_at IS NULL DO NOTHING RETURNING *
        """,
        tag_id,
        user_id,
        organisation_id,
    )


async def get_tag(conn: asyncpg.Connection, *, tag_row_id: UUID) -> asyncpg.Record | None:
    """A tag record by its id, or None."""
    return await conn.fetchrow("SELECT * FROM carer_tags WHERE id = $1", tag_row_id)


async def revoke_tag(conn: asyncpg.Connection, *, tag_row_id: UUID) -> asyncpg.Record:
    """Revoke a tag (lost, or the carer left); returns the row."""
    row: asyncpg.Record = await conn.fetchrow(
        "UPDATE carer_tags SET revoked_at = COALESCE(revoked_at, now()) WHERE id = $1 RETURNING *", tag_row_id
    )
    return row


async def organisation_tags(conn: asyncpg.Connection, *, organisation_id: UUID) -> list[asyncpg.Record]:
    """An organisation's tags, live and revoked, newest first."""
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT * FROM carer_tags WHERE organisation_id = $1 ORDER BY issued_at DESC, id", organisation_id
    )
    return rows


async def load_cursor(conn: asyncpg.Connection, *, name: str) -> tuple[int, list[int]]:
    """A visits job's place in the ingest batch log: (low, seen); (0, []) the first time."""
    row = await conn.fetchrow("SELECT batch_low, batch_seen FROM visit_cursors WHERE name = $1", name)
    return (0, []) if row is None else (int(row["batch_low"]), list(row["batch_seen"]))


async def save_cursor(conn: asyncpg.Connection, *, name: str, low: int, seen: list[int]) -> None:
    """Persist a visits job's place in the ingest batch log."""
    await conn.execute(
        """
        INSERT INTO visit_cursors (name, batch_low, batch_seen) VALUES ($1, $2, $3)
        ON CONFLICT (name) DO UPDATE SET batch_low = EXCLUDED.batch_low, batch_seen = EXCLUDED.batch_seen,
            updated_at = now()
        """,
        name,
        low,
        seen,
    )
