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


# The new readings among a batch passed as one array per column (one round trip, where COPY takes two
# and the INSERT a third), stored, and their keys logged for other processes in the same statement:
# the row that ingest.handoff.record_batch writes.
STORE_NEW_AND_LOG = """
WITH new AS (
    INSERT INTO readings (time, received_at, home_id, device_id, seq, kind, value, payload, clock_suspect)
    SELECT DISTINCT ON (device_id, seq, time) * FROM unnest(
        $1::timestamptz[], $2::timestamptz[], $3::uuid[], $4::uuid[], $5::bigint[], $6::text[],
        $7::double precision[], $8::jsonb[], $9::boolean[]
    ) AS r (time, received_at, home_id, device_id, seq, kind, value, payload, clock_suspect)
    ON CONFLICT DO NOTHING
    RETURNING device_id, seq, time
), logged AS (
    INSERT INTO ingest_batches (device_ids, seqs, times)
    SELECT array_agg(device_id), array_agg(seq), array_agg(time) FROM new HAVING count(*) > 0
)
SELECT device_id, seq FROM new
"""


async def prepare_writer_session(conn: asyncpg.Connection) -> None:
    """Set up a connection that a writer keeps: statements planned for each batch's own arrays.

    A generic plan, which PostgreSQL caches for a prepared statement after a few executions, is picked
    without the arrays' sizes; one picked while device_health was small, or not yet analysed, went on
    scanning the whole table for every batch once it was large.
    """
    await conn.execute("SET plan_cache_mode = force_custom_plan")


async def store_readings(
    conn: asyncpg.Connection, *, columns: Sequence[Sequence[Any]]
) -> set[tuple[UUID, int]]:
    """Store the new ones among a batch of readings, given as one sequence per READING_COLUMNS column,
    and log their keys in ingest_batches; returns (device_id, seq) of the rows actually stored."""
    return {(r[0], r[1]) for r in await conn.fetch(STORE_NEW_AND_LOG, *columns)}


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
