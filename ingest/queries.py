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
# the row that ingest.handoff reads. A reading is new when its (device_id, seq) can be
# claimed in reading_seqs (the readings' own key includes the time, so it alone would let the same
# seq with another ts in again); the first of a batch's messages with one key claims it, in key order
# so that two workers claiming overlapping keys wait for each other instead of deadlocking.
_BATCH = """
    SELECT DISTINCT ON ({key}) time, received_at, home_id, device_id, seq, kind, value, payload,
           clock_suspect
    FROM unnest(
        $1::timestamptz[], $2::timestamptz[], $3::uuid[], $4::uuid[], $5::bigint[], $6::text[],
        $7::double precision[], $8::jsonb[], $9::boolean[]
    ) WITH ORDINALITY
      AS r (time, received_at, home_id, device_id, seq, kind, value, payload, clock_suspect, n)
    ORDER BY {key}, n
"""
_STORE_AND_LOG = """
new AS (
    INSERT INTO readings (time, received_at, home_id, device_id, seq, kind, value, payload, clock_suspect)
    SELECT {rows}
    ON CONFLICT DO NOTHING
    RETURNING device_id, seq, time
), logged AS (
    INSERT INTO ingest_batches (device_ids, seqs, times)
    SELECT array_agg(device_id), array_agg(seq), array_agg(time) FROM new HAVING count(*) > 0
)
SELECT device_id, seq, time FROM new
"""
STORE_NEW_AND_LOG = (
    f"WITH batch AS ({_BATCH.format(key='device_id, seq')}), claimed AS ("
    """
    INSERT INTO reading_seqs (device_id, seq, time)
    SELECT device_id, seq, time FROM batch
    ON CONFLICT DO NOTHING
    RETURNING device_id, seq
),""" + _STORE_AND_LOG.format(rows="b.* FROM batch b JOIN claimed c USING (device_id, seq)")
)
# Readings stored although their seq is claimed by an earlier message with another ts (an alarm from a
# device whose counter went back): the readings' own key still drops a redelivery of one of them.
STORE_UNCLAIMED_AND_LOG = (
    f"WITH batch AS ({_BATCH.format(key='device_id, seq, time')}),"
    + _STORE_AND_LOG.format(rows="* FROM batch")
)


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


async def store_unclaimed(
    conn: asyncpg.Connection, *, columns: Sequence[Sequence[Any]]
) -> set[tuple[UUID, int, datetime]]:
    """Store readings whose seq an earlier message claimed (see STORE_UNCLAIMED_AND_LOG); returns
    (device_id, seq, time) of the rows actually stored."""
    return {(r[0], r[1], r[2]) for r in await conn.fetch(STORE_UNCLAIMED_AND_LOG, *columns)}


async def claimed_times(
    conn: asyncpg.Connection, *, keys: Sequence[tuple[UUID, int]]
) -> dict[tuple[UUID, int], datetime]:
    """The ts of the message that claimed each (device_id, seq), for the keys that are claimed."""
    rows = await conn.fetch(
        """
        SELECT s.device_id, s.seq, s.time FROM unnest($1::uuid[], $2::bigint[]) AS k (device_id, seq)
        JOIN reading_seqs s USING (device_id, seq)
        """,
        [k[0] for k in keys],
        [k[1] for k in keys],
    )
    return {(r["device_id"], r["seq"]): r["time"] for r in rows}


async def prune_reading_seqs(conn: asyncpg.Connection, *, keep_days: int) -> int:
    """Forget the claims on seqs that first arrived more than keep_days ago; returns how many."""
    status = await conn.execute(
        "DELETE FROM reading_seqs WHERE first_at < now() - make_interval(days => $1)", keep_days
    )
    return int(status.split()[-1])


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


async def select_activity(
    conn: asyncpg.Connection, *, home_id: UUID, start: datetime, end: datetime, kinds: list[str]
) -> list[asyncpg.Record]:
    """A home's readings of these kinds in [start, end), oldest first, with each device's room and type
    (the console's day timeline: a day of a home is a few thousand rows)."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT r.time, r.kind, r.value, r.device_id, d.room, d.type, d.role
        FROM readings r JOIN devices d ON d.id = r.device_id
        WHERE r.home_id = $1 AND r.time >= $2 AND r.time < $3 AND r.kind = ANY($4::text[])
        ORDER BY r.time, r.device_id
        LIMIT 100000
        """,
        home_id,
        start,
        end,
        kinds,
    )
    return rows
