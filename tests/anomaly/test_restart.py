"""The runtime against a real database: alerts written with the checkpoint; after a restart no alert is
raised twice and a condition that arose while the detector was down is still found."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import asyncpg

from anomaly.config import DetectorConfig
from anomaly.service import DetectorService, RuntimeOptions
from bench.batchlog import record_batch
from devices import queries as registry
from homes import queries as home_queries
from tests.anomaly.streams import Clock

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC).timestamp()
CONFIG = DetectorConfig(default_inactivity_s=120.0)
OPTIONS = RuntimeOptions(tick_s=0.0, checkpoint_s=0.0, housekeeping_s=3600)


async def _home(pool: asyncpg.Pool) -> tuple[UUID, UUID, UUID]:
    async with pool.acquire() as conn:
        org = await home_queries.insert_organisation(conn, name="Org")
        home = await home_queries.insert_home(conn, organisation_id=org, name="Home")
        pendant = await registry.insert_device(conn, home_id=home, device_type="pendant")
        motion = await registry.insert_device(conn, home_id=home, device_type="motion_sensor", room="lounge")
    return home, pendant, motion


async def _commit(
    pool: asyncpg.Pool, home: UUID, device: UUID, seq: int, kind: str, at: float, **p: Any
) -> None:
    """Store one reading as ingest does: the row and its batch log entry in one transaction."""
    when = datetime.fromtimestamp(at, UTC)
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "INSERT INTO readings (time, received_at, home_id, device_id, seq, kind, value, payload) "
            "VALUES ($1, $1, $2, $3, $4, $5, 1.0, $6)",
            when,
            home,
            device,
            seq,
            kind,
            {"ts": when.isoformat(), "seq": seq, **p},
        )
        await record_batch(conn, keys=[(device, seq, when)])


async def _alerts(pool: asyncpg.Pool) -> list[asyncpg.Record]:
    async with pool.acquire() as conn:
        rows: list[asyncpg.Record] = await conn.fetch(
            "SELECT kind, status, occurrences FROM alerts ORDER BY kind"
        )
        return rows


async def test_restart_raises_nothing_twice_and_misses_nothing(pool: asyncpg.Pool) -> None:
    clock = Clock(T0)
    home, pendant, motion = await _home(pool)
    first = DetectorService(pool, CONFIG, OPTIONS, clock=clock)
    await first.start()
    await _commit(pool, home, pendant, 1, "alarm", T0, button="pendant")
    await _commit(pool, home, motion, 1, "motion", T0 + 1, detected=True)
    clock.now = T0 + 2
    await first.step()
    assert [(r["kind"], r["occurrences"]) for r in await _alerts(pool)] == [("alarm_pressed", 1)]

    # The detector stops. The home goes quiet for longer than its limit while nobody is watching.
    del first
    clock.now = T0 + 600
    second = DetectorService(pool, CONFIG, OPTIONS, clock=clock)
    await second.start()
    await second.step()
    rows = await _alerts(pool)
    assert [(r["kind"], r["occurrences"]) for r in rows] == [("alarm_pressed", 1), ("inactivity", 1)]

    # And a third start, with nothing new: still exactly these alerts, nothing updated.
    third = DetectorService(pool, CONFIG, OPTIONS, clock=clock)
    await third.start()
    clock.now = T0 + 660
    await third.step()
    assert [(r["kind"], r["occurrences"]) for r in await _alerts(pool)] == [
        ("alarm_pressed", 1),
        ("inactivity", 1),
    ]
    async with pool.acquire() as conn:
        raised = await conn.fetchval("SELECT count(*) FROM alert_events WHERE action = 'raised'")
        state = await conn.fetchrow("SELECT mode, live FROM detector_homes WHERE home_id = $1", home)
    assert raised == 2
    assert state["mode"] == "defaults" and "inactivity" in state["live"]["open"]


async def test_an_uncommitted_cycle_is_replayed_from_the_checkpoint(pool: asyncpg.Pool) -> None:
    clock = Clock(T0)
    home, pendant, motion = await _home(pool)
    first = DetectorService(pool, CONFIG, OPTIONS, clock=clock)
    await first.start()
    await _commit(pool, home, motion, 1, "motion", T0, detected=True)
    clock.now = T0 + 1
    await first.step()
    # The next cycle reads the alarm but dies before writing anything: its cursor never reaches the table.
    await _commit(pool, home, pendant, 1, "alarm", T0 + 2, button="pendant")
    async with pool.acquire() as conn:
        from ingest.handoff import read_committed

        assert len(await read_committed(conn, first.cursor)) == 1
    second = DetectorService(pool, CONFIG, OPTIONS, clock=clock)
    await second.start()
    clock.now = T0 + 3
    await second.step()
    assert [(r["kind"], r["occurrences"]) for r in await _alerts(pool)] == [("alarm_pressed", 1)]
