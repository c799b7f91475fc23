"""The batch writer's one transaction, on both storage paths: new rows only, logged once, health folded."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from devices import queries as device_queries
from devices.health import HealthKeeper
from homes import queries as home_queries
from ingest import handoff, queries
from ingest.writer import BatchWriter, ReadingRow
from kernel.db import create_pool

T0 = datetime.now(UTC).replace(microsecond=0)


def _reading(home: uuid.UUID, device: uuid.UUID, seq: int) -> ReadingRow:
    at = T0 + timedelta(seconds=seq)
    return ReadingRow(at, at, home, device, seq, "motion", 1.0, {"ts": at.isoformat(), "seq": seq}, False)


async def test_a_batch_stores_new_readings_once_and_logs_them(db_url: str) -> None:
    await _stores_new_readings_once_and_logs_them(db_url)


async def test_the_same_on_timescaledb(ts_db_url: str) -> None:
    await _stores_new_readings_once_and_logs_them(ts_db_url)


async def _stores_new_readings_once_and_logs_them(url: str) -> None:
    pool = await create_pool(url, min_size=1, max_size=2)
    writer = BatchWriter(pool, HealthKeeper())
    try:
        async with pool.acquire() as conn:
            org = await home_queries.insert_organisation(conn, name="Org")
            home = await home_queries.insert_home(conn, organisation_id=org, name="Home")
            device = await device_queries.insert_device(conn, home_id=home, device_type="motion_sensor")
        first = [_reading(home, device, seq) for seq in (1, 2, 2, 3)]  # seq 2 twice in one batch
        stored = await writer.store(first, [])
        assert sorted({r.seq for r in stored}) == [1, 2, 3]
        again = await writer.store([_reading(home, device, seq) for seq in (3, 4)], [])  # 3 is redelivered
        assert [r.seq for r in again] == [4]
        async with pool.acquire() as conn:
            seqs = [r["seq"] for r in await conn.fetch("SELECT seq FROM readings ORDER BY seq")]
            logged = await handoff.read_committed(conn, handoff.BatchCursor())
            health = await conn.fetchrow("SELECT online, last_seen_at FROM device_health")
            events = await conn.fetchval("SELECT count(*) FROM device_health_events")
        assert seqs == [1, 2, 3, 4]
        assert sorted(r["seq"] for r in logged) == [1, 2, 3, 4]
        assert health is not None and health["online"] and health["last_seen_at"] == T0 + timedelta(seconds=3)
        assert events == 1
    finally:
        await writer.close()
        await pool.close()


async def test_the_memory_of_stored_seqs_is_pruned(db_url: str) -> None:
    """reading_seqs must not grow for ever: keys older than the window are forgotten, newer ones kept."""
    pool = await create_pool(db_url, min_size=1, max_size=2)
    writer = BatchWriter(pool, HealthKeeper())
    try:
        async with pool.acquire() as conn:
            org = await home_queries.insert_organisation(conn, name="Org")
            home = await home_queries.insert_home(conn, organisation_id=org, name="Home")
            device = await device_queries.insert_device(conn, home_id=home, device_type="motion_sensor")
        await writer.store([_reading(home, device, seq) for seq in (1, 2)], [])
        async with pool.acquire() as conn:
            await conn.execute("UPDATE reading_seqs SET first_at = now() - interval '31 days' WHERE seq = 1")
            assert await queries.prune_reading_seqs(conn, keep_days=30) == 1
            assert [r["seq"] for r in await conn.fetch("SELECT seq FROM reading_seqs")] == [2]
    finally:
        await writer.close()
        await pool.close()
