"""Ingest's periodic upkeep: readings' daily partitions, retention and hourly rollup, and its logs.

TimescaleDB does the readings' part itself (chunks, retention and continuous-aggregate policies), so on
that path only the logs (the batch log, the claims on seqs) are pruned. The composition root
(telecare/services.py) schedules both jobs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import asyncpg

from ingest import handoff
from ingest import queries as ingest_queries
from kernel.settings import StorageMode
from kernel.storage import StorageInfo

log = logging.getLogger(__name__)

ROLLUP_WINDOW = timedelta(days=3)
# How long ingest remembers a (device, seq) it stored, so that the same seq with another ts is not stored
# again (docs/mqtt-contract.md); never longer than the readings themselves are kept.
SEQ_MEMORY_DAYS = 30
# The longest a DDL statement of upkeep waits for a lock on readings (writers and readers wait behind it).
LOCK_TIMEOUT_MS = 5000


@dataclass(frozen=True, slots=True)
class MaintenanceResult:
    """What one maintenance pass changed."""

    created: tuple[str, ...]
    dropped: tuple[str, ...]
    rollup_rows: int


def partition_name(day: date) -> str:
    """readings_pYYYYMMDD."""
    return f"readings_p{day:%Y%m%d}"


async def existing_partitions(conn: asyncpg.Connection) -> dict[str, date]:
    """The daily partitions of readings, by name."""
    rows = await conn.fetch(
        """
        SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'readings'::regclass AND c.relname LIKE 'readings\\_p%'
        """
    )
    return {r["relname"]: datetime.strptime(r["relname"][10:], "%Y%m%d").date() for r in rows}


async def create_day_partition(conn: asyncpg.Connection, day: date) -> bool:
    """Create one day's partition, moving any rows for that day out of the default partition first.

    False when another worker's upkeep has just created it. Writers go on meanwhile: one whose rows
    were routed to the default partition before the attach has its batch rolled back and writes it
    again (ingest.writer.transient).
    """
    name = partition_name(day)
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    end = start + timedelta(days=1)
    async with conn.transaction():
        # Several workers' upkeep passes take turns, and each sees the partitions the others made.
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext('telecare-partitions'))")
        if await conn.fetchval("SELECT to_regclass($1)", name) is not None:
            return False
        await _lock_for_attach(conn)
        await conn.execute(f"CREATE TABLE {name} (LIKE readings INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
        await conn.execute(
            f"""
            WITH moved AS (
                DELETE FROM readings_default WHERE time >= $1 AND time < $2 RETURNING *
            ) INSERT INTO {name} SELECT * FROM moved
            """,
            start,
            end,
        )
        await conn.execute(
            f"ALTER TABLE readings ATTACH PARTITION {name} FOR VALUES FROM ('{start.isoformat()}') "
            f"TO ('{end.isoformat()}')"
        )
    return True


async def _lock_for_attach(conn: asyncpg.Connection) -> None:
    """Take, before moving rows out of the default partition, the locks the attach will take anyway.

    Without them a writer's rows for the day, uncommitted when the move ran, would be in the default
    partition by the time of the attach, and the attach would fail. In the attach's own order (the
    parent, then the default partition), with a bound on the wait: behind a long query on readings,
    the writers bound for the default partition would queue behind this pass; it gives up instead and
    tries again on the next.
    """
    await conn.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT_MS}ms'")
    await conn.execute("LOCK TABLE ONLY readings IN SHARE UPDATE EXCLUSIVE MODE")
    await conn.execute("LOCK TABLE readings_default IN ACCESS EXCLUSIVE MODE")


async def run_once(
    conn: asyncpg.Connection, *, retention_days: int, ahead_days: int, now: datetime | None = None
) -> MaintenanceResult:
    """One pass: partitions for days ahead and for rows waiting in default, retention, rollup."""
    now = now or datetime.now(UTC)
    cutoff = (now - timedelta(days=retention_days)).date()
    have = await existing_partitions(conn)
    waiting = await conn.fetch(
        "SELECT DISTINCT (time AT TIME ZONE 'UTC')::date AS day FROM readings_default WHERE time >= $1",
        datetime(cutoff.year, cutoff.month, cutoff.day, tzinfo=UTC),
    )
    wanted = {now.date() + timedelta(days=d) for d in range(-1, ahead_days + 1)}
    wanted |= {r["day"] for r in waiting}
    created = []
    for day in sorted(wanted):
        if partition_name(day) not in have and day >= cutoff and await create_day_partition(conn, day):
            created.append(partition_name(day))
    dropped = []
    for name, day in sorted(have.items(), key=lambda item: item[1]):
        if day < cutoff:
            async with conn.transaction():
                # Dropping a partition locks the whole table: bounded as for an attach.
                await conn.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT_MS}ms'")
                await conn.execute(f"DROP TABLE IF EXISTS {name}")
            dropped.append(name)
    await conn.execute(
        "DELETE FROM readings_default WHERE time < $1",
        datetime(cutoff.year, cutoff.month, cutoff.day, tzinfo=UTC),
    )
    rollup_rows = await refresh_rollup(conn, since=now - ROLLUP_WINDOW)
    return MaintenanceResult(tuple(created), tuple(dropped), rollup_rows)


async def refresh_rollup(conn: asyncpg.Connection, *, since: datetime) -> int:
    """Recompute the hourly rollup from `since` (hour-aligned) to now; returns the rows written."""
    start = since.replace(minute=0, second=0, microsecond=0)
    async with conn.transaction():
        await conn.execute("DELETE FROM readings_hourly WHERE bucket >= $1", start)
        status = await conn.execute(
            """
            INSERT INTO readings_hourly
                (bucket, home_id, device_id, kind, n, active, value_avg, value_min, value_max)
            SELECT date_trunc('hour', time), home_id, device_id, kind, count(*),
                   count(*) FILTER (WHERE value > 0), avg(value), min(value), max(value)
            FROM readings WHERE time >= $1
            GROUP BY 1, home_id, device_id, kind
            """,
            start,
        )
    return int(status.split()[-1])


async def keep_readings(
    pool: asyncpg.Pool, *, info: StorageInfo, retention_days: int, ahead_days: int
) -> None:
    """Readings' upkeep on plain PostgreSQL, once (partitions, retention, rollup); none on TimescaleDB."""
    if info.mode is StorageMode.TIMESCALEDB:
        return
    async with pool.acquire() as conn:
        result = await run_once(conn, retention_days=retention_days, ahead_days=ahead_days)
    if result.created or result.dropped:
        log.info("partitions created %s, dropped %s", result.created, result.dropped)


async def prune_logs(pool: asyncpg.Pool, *, retention_days: int) -> None:
    """Forget old batches of the log that hands committed readings on (ingest/handoff.py), and old
    claims on seqs (reading_seqs), on both storage paths."""
    async with pool.acquire() as conn:
        await handoff.prune(conn)
        keep_days = min(SEQ_MEMORY_DAYS, retention_days)
        await ingest_queries.prune_reading_seqs(conn, keep_days=keep_days)
