"""Readings and dead-letter SQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

READING_COLUMNS = (
    "time",
    "received_at",
    "home_id",
    "device_id",
    "seq",
    "kind",
    "value",
    "payload",
    "clock_suspect",
)
STAGE = """
CREATE TEMP TABLE IF NOT EXISTS readings_in (
    time timestamptz, received_at timestamptz, home_id uuid, device_id uuid, seq bigint,
    kind text, value double precision, payload jsonb, clock_suspect boolean
) ON COMMIT DELETE ROWS
"""

INSERT_NEW = """
INSERT INTO readings (time, received_at, home_id, device_id, seq, kind, value, payload, clock_suspect)
SELECT DISTINCT ON (device_id, seq, time) * FROM readings_in
ON CONFLICT DO NOTHING
RETURNING device_id, seq
"""


async def insert_readings(
    conn: asyncpg.Connection, *, rows: Sequence[tuple[Any, ...]]
) -> list[tuple[UUID, int]]:
    """COPY rows in and keep only new ones; returns (device_id, seq) of the rows actually stored.

    Must run inside a transaction: the staging table empties itself at commit.
    """
    await conn.execute(STAGE)
    await conn.copy_records_to_table("readings_in", records=rows, columns=READING_COLUMNS)
    stored = await conn.fetch(INSERT_NEW)
    return [(r["device_id"], r["seq"]) for r in stored]


async def insert_dead_letters(
    conn: asyncpg.Connection, *, rows: Sequence[tuple[datetime, str, bytes, str, str]]
) -> None:
    """Keep messages that could not be stored, whole: (received_at, topic, payload, reason, detail)."""
    await conn.executemany(
        "INSERT INTO dead_letters (received_at, topic, payload, reason, detail) VALUES ($1, $2, $3, $4, $5)",
        rows,
    )


async def select_readings(
    conn: asyncpg.Connection,
    *,
    home_id: UUID,
    start: datetime,
    end: datetime,
    kind: str | None = None,
    device_id: UUID | None = None,
    limit: int = 1000,
) -> list[asyncpg.Record]:
    """A home's readings in [start, end), newest first."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT time, received_at, stored_at, device_id, seq, kind, value, payload, clock_suspect
        FROM readings
        WHERE home_id = $1 AND time >= $2 AND time < $3
          AND ($4::text IS NULL OR kind = $4) AND ($5::uuid IS NULL OR device_id = $5)
        ORDER BY time DESC, device_id, seq DESC
        LIMIT $6
        """,
        home_id,
        start,
        end,
        kind,
        device_id,
        limit,
    )
    return rows


async def count_readings(conn: asyncpg.Connection, *, home_id: UUID | None = None) -> int:
    """How many readings are stored (for one home, or in all)."""
    return int(
        await conn.fetchval("SELECT count(*) FROM readings WHERE $1::uuid IS NULL OR home_id = $1", home_id)
    )
