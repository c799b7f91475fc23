"""Readings and dead-letter SQL: the writer's batches, and reading them back raw or per hour or day."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal
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
# The new readings among a batch passed as one array per column (one round trip, where COPY takes two
# and the INSERT a third), stored, and their keys logged for other processes in the same statement:
# the row that ingest.handoff reads.
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


# `readings_hourly` is a continuous aggregate on TimescaleDB and a rollup table on plain PostgreSQL,
# with the same columns, so one query serves both.
async def select_buckets(
    conn: asyncpg.Connection,
    *,
    home_id: UUID,
    start: datetime,
    end: datetime,
    bucket: Literal["hour", "day"],
    group: Literal["device", "room"],
    kind: str | None,
    device_id: UUID | None,
    room: str | None,
    limit: int,
) -> list[asyncpg.Record]:
    """A home's readings per bucket (UTC), per device or room and kind, oldest first."""
    key = (
        "r.device_id AS device_id, NULL::text AS room"
        if group == "device"
        else "NULL::uuid AS device_id, d.room"
    )
    grouping = "r.device_id" if group == "device" else "d.room"
    rows: list[asyncpg.Record] = await conn.fetch(
        f"""
        SELECT date_trunc($4, r.bucket) AS bucket, {key}, r.kind,
               sum(r.n)::bigint AS n, sum(r.active)::bigint AS active,
               sum(r.value_avg * r.n) FILTER (WHERE r.value_avg IS NOT NULL)
                 / nullif(sum(r.n) FILTER (WHERE r.value_avg IS NOT NULL), 0) AS value_avg,
               min(r.value_min) AS value_min, max(r.value_max) AS value_max
        FROM readings_hourly r JOIN devices d ON d.id = r.device_id
        WHERE r.home_id = $1 AND r.bucket >= $2 AND r.bucket < $3
          AND ($5::text IS NULL OR r.kind = $5) AND ($6::uuid IS NULL OR r.device_id = $6)
          AND ($7::text IS NULL OR d.room = $7)
        GROUP BY 1, {grouping}, r.kind ORDER BY 1, {grouping}, r.kind LIMIT $8
        """,
        home_id,
        start,
        end,
        bucket,
        kind,
        device_id,
        room,
        limit,
    )
    return rows
