"""A batch written while storage upkeep attaches its day's partition is written again, never lost or fatal.

PostgreSQL attaches a partition holding only SHARE UPDATE EXCLUSIVE on the parent: an INSERT that has
already routed its rows by the old partition set waits for the default partition's lock, then finds
that its rows now break the default partition's new constraint (CheckViolationError). A worker once
died of it, on a fresh database, when its first batch met the start-up maintenance pass.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from devices import queries as device_queries
from devices.health import HealthKeeper
from homes import queries as home_queries
from ingest.upkeep import create_day_partition, partition_name
from ingest.writer import BatchWriter, ReadingRow
from kernel.db import create_pool
from tests.support import wait_until


def _reading(home: uuid.UUID, device: uuid.UUID, seq: int, at: datetime) -> ReadingRow:
    return ReadingRow(at, at, home, device, seq, "motion", 1.0, {"ts": at.isoformat(), "seq": seq}, False)


# Another backend of this database waiting for a lock: the writer, blocked by the attach.
WAITING = (
    "SELECT count(*) FROM pg_stat_activity"
    " WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
)


async def test_a_batch_routed_before_its_partition_is_attached_is_written_again(db_url: str) -> None:
    pool = await create_pool(db_url, min_size=1, max_size=3)
    writer = BatchWriter(pool, HealthKeeper())
    # Two hours before now, yet today in UTC (or the first minutes of it): the day has no partition.
    at = max(datetime.now(UTC) - timedelta(hours=2), datetime.now(UTC).replace(hour=0, minute=1))
    try:
        async with pool.acquire() as conn:
            org = await home_queries.insert_organisation(conn, name="Org")
            home = await home_queries.insert_home(conn, organisation_id=org, name="Home")
            device = await device_queries.insert_device(conn, home_id=home, device_type="motion_sensor")
        batch = [_reading(home, device, seq, at + timedelta(seconds=seq)) for seq in range(1, 6)]
        async with pool.acquire() as ddl:
            # The attach is done but not committed: it holds the default partition's lock.
            attaching = ddl.transaction()
            await attaching.start()
            await create_day_partition(ddl, at.date())
            writing = asyncio.create_task(writer.store(batch, []))
            try:
                await wait_until(pool, WAITING, at_least=1, timeout=60)
            finally:
                await attaching.commit()
            stored = await asyncio.wait_for(writing, timeout=60)
            assert sorted(r.seq for r in stored) == [1, 2, 3, 4, 5]
            where = await ddl.fetch("SELECT tableoid::regclass::text AS part, seq FROM readings")
        assert sorted(r["seq"] for r in where) == [1, 2, 3, 4, 5]
        assert {r["part"] for r in where} == {partition_name(at.date())}
    finally:
        await writer.close()
        await pool.close()


async def test_the_attach_takes_in_rows_written_to_the_default_partition_meanwhile(db_url: str) -> None:
    """A writer's rows for the day, uncommitted when upkeep moved the day's rows out, must not fail it."""
    pool = await create_pool(db_url, min_size=1, max_size=3)
    day = (datetime.now(UTC) - timedelta(days=3)).date()
    at = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
    try:
        async with pool.acquire() as writing, pool.acquire() as upkeep:
            open_batch = writing.transaction()
            await open_batch.start()
            await writing.execute(
                "INSERT INTO readings (time, received_at, home_id, device_id, seq, kind, value, payload)"
                " VALUES ($1, $1, $2, $2, 1, 'motion', 1, '{}')",
                at,
                uuid.uuid4(),
            )
            creating = asyncio.create_task(create_day_partition(upkeep, day))
            try:
                await wait_until(pool, WAITING, at_least=1, timeout=60)
            finally:
                await open_batch.commit()
            assert await asyncio.wait_for(creating, timeout=60)
            part = await writing.fetchval("SELECT tableoid::regclass::text FROM readings")
            in_default = await writing.fetchval("SELECT count(*) FROM readings_default")
        assert (part, in_default) == (partition_name(day), 0)
    finally:
        await pool.close()
