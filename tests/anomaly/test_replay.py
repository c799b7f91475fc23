"""A detector that was down replays what was stored meanwhile at the time it was stored, not at now."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg

from anomaly.config import DetectorConfig
from anomaly.service import DetectorService, RuntimeOptions
from bench.batchlog import record_batch
from devices import queries as registry
from homes import queries as home_queries
from tests.anomaly.streams import Clock

CONFIG = DetectorConfig(default_inactivity_s=300.0)
OPTIONS = RuntimeOptions(tick_s=0.0, checkpoint_s=0.0, housekeeping_s=3600, max_batches=5)


async def _store(pool: asyncpg.Pool, home: object, device: object, seq: int, at: float) -> None:
    """A motion reading stored as ingest stores it, at `at` (event, arrival and commit time alike)."""
    when = datetime.fromtimestamp(at, UTC)
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "INSERT INTO readings (time, received_at, stored_at, home_id, device_id, seq, kind, value,"
            " payload) VALUES ($1, $1, $1, $2, $3, $4, 'motion', 1.0, $5)",
            when,
            home,
            device,
            seq,
            {"ts": when.isoformat(), "seq": seq, "detected": True},
        )
        await record_batch(conn, keys=[(device, seq, when)])


async def test_replay_after_downtime_raises_no_inactivity(pool: asyncpg.Pool) -> None:
    # In the day (the home's night quiet would be inferred sleep): yesterday 13:00 UTC, 14:00 in London.
    start = datetime.now(UTC).replace(hour=13, minute=0, second=0).timestamp() - 86400
    async with pool.acquire() as conn:
        org = await home_queries.insert_organisation(conn, name="Org")
        home = await home_queries.insert_home(conn, organisation_id=org, name="Home")
        motion = await registry.insert_device(conn, home_id=home, device_type="motion_sensor", room="lounge")
        # A bed sensor in the kit: without one, a quiet night would be inferred sleep, whatever the hour.
        await registry.insert_device(conn, home_id=home, device_type="bed_sensor", room="bedroom")
    clock = Clock(start)
    first = DetectorService(pool, CONFIG, OPTIONS, clock=clock)
    await first.start()
    await _store(pool, home, motion, 0, start)
    await first.step()
    # The detector is down for two hours while the resident moves about every two minutes.
    for seq in range(1, 61):
        await _store(pool, home, motion, seq, start + seq * 120)
    clock.now = start + 61 * 120
    second = DetectorService(pool, CONFIG, OPTIONS, clock=clock)
    await second.start()
    while await second.step():
        pass
    async with pool.acquire() as conn:
        kinds = await conn.fetch("SELECT kind FROM alerts")
    assert kinds == []
    # Caught up, the wall clock rules again: silence from now on is judged as it happens.
    clock.now += 301
    await second.step()
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM alerts WHERE kind = 'inactivity'") == 1
