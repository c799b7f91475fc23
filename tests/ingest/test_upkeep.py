"""Plain-PostgreSQL upkeep: partitions ahead, late rows moved out of default, retention, rollup."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg

from ingest.upkeep import existing_partitions, partition_name, run_once
from kernel.db import create_pool

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


async def _insert(
    conn: asyncpg.Connection, at: datetime, seq: int, home: uuid.UUID, value: float = 1.0
) -> None:
    await conn.execute(
        """
        INSERT INTO readings (time, received_at, home_id, device_id, seq, kind, value, payload)
        VALUES ($1, $1, $2, $2, $3, 'motion', $4, '{}')
        """,
        at,
        home,
        seq,
        value,
    )


async def test_partitions_retention_and_rollup(db_url: str) -> None:
    pool = await create_pool(db_url, min_size=1, max_size=1)
    home = uuid.uuid4()
    try:
        async with pool.acquire() as conn:
            # Rows before any partition exists land in default; maintenance must move them out.
            await _insert(conn, NOW - timedelta(minutes=30), 1, home)
            await _insert(conn, NOW - timedelta(minutes=20), 2, home, value=0.0)
            await _insert(conn, NOW - timedelta(days=20), 3, home)
            await _insert(conn, NOW - timedelta(days=400), 4, home)
            result = await run_once(conn, retention_days=30, ahead_days=3, now=NOW)
            have = await existing_partitions(conn)
            for offset in range(-1, 4):
                assert partition_name((NOW + timedelta(days=offset)).date()) in have
            assert partition_name((NOW - timedelta(days=20)).date()) in result.created
            assert await conn.fetchval("SELECT count(*) FROM readings_default") == 0
            assert (
                await conn.fetchval("SELECT count(*) FROM readings") == 3
            )  # the 400-day-old row is past retention
            hour = await conn.fetchrow(
                "SELECT n, active FROM readings_hourly WHERE home_id = $1 AND bucket = $2",
                home,
                NOW.replace(minute=0) - timedelta(hours=1),
            )
            assert hour is not None and (hour["n"], hour["active"]) == (2, 1)

            later = await run_once(conn, retention_days=5, ahead_days=3, now=NOW)
            assert partition_name((NOW - timedelta(days=20)).date()) in later.dropped
            assert await conn.fetchval("SELECT count(*) FROM readings") == 2
            again = await run_once(conn, retention_days=5, ahead_days=3, now=NOW)
            assert again.created == () and again.dropped == ()
    finally:
        await pool.close()
