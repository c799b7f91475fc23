"""The worker's health keeper against a real database: cheap for quiet devices, exact for every change."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from devices import queries
from devices.health import HealthKeeper, HealthUpdate, Observation, mark_silent_offline
from homes import queries as home_queries
from kernel.db import create_pool

T0 = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
async def conn(db_url: str) -> AsyncIterator[asyncpg.Connection]:
    pool = await create_pool(db_url, min_size=1, max_size=1)  # with the JSON codecs the services use
    async with pool.acquire() as connection:
        yield connection
    await pool.close()


async def _device(
    conn: asyncpg.Connection, device_type: str = "motion_sensor"
) -> tuple[uuid.UUID, uuid.UUID]:
    org = await home_queries.insert_organisation(conn, name="Org")
    home = await home_queries.insert_home(conn, organisation_id=org, name="Home")
    return home, await queries.insert_device(conn, home_id=home, device_type=device_type)


def _obs(
    home: uuid.UUID, device: uuid.UUID, seconds: float, kind: str = "motion", **payload: object
) -> Observation:
    at = T0 + timedelta(seconds=seconds)
    return Observation(device, home, at, at, kind, dict(payload) or {"detected": True})


async def _apply(conn: asyncpg.Connection, keeper: HealthKeeper, *observations: Observation) -> HealthUpdate:
    async with conn.transaction():
        update = await keeper.apply(conn, list(observations))
    keeper.learn(update)
    return update


async def _row(conn: asyncpg.Connection, device: uuid.UUID) -> asyncpg.Record:
    row = await conn.fetchrow("SELECT * FROM device_health WHERE device_id = $1", device)
    assert row is not None
    return row


async def test_a_quiet_device_has_last_seen_written_at_most_every_interval(conn: asyncpg.Connection) -> None:
    home, device = await _device(conn)
    keeper = HealthKeeper(last_seen_every=timedelta(seconds=10))
    first = await _apply(conn, keeper, _obs(home, device, 0), _obs(home, device, 1))
    assert [e.kind for e in first.events] == ["online"]
    assert (await _row(conn, device))["last_seen_at"] == T0 + timedelta(seconds=1)
    quiet = await _apply(conn, keeper, _obs(home, device, 5), _obs(home, device, 9))
    assert quiet.events == [] and quiet.known == {}
    assert (await _row(conn, device))["last_seen_at"] == T0 + timedelta(seconds=1)
    due = await _apply(conn, keeper, _obs(home, device, 12))
    assert due.events == []
    row = await _row(conn, device)
    assert row["last_seen_at"] == row["last_event_at"] == T0 + timedelta(seconds=12) and row["online"]


async def test_a_device_taken_offline_elsewhere_comes_back_online_with_its_event(
    conn: asyncpg.Connection,
) -> None:
    home, device = await _device(conn, "hub")  # heartbeat every 60 s
    keeper = HealthKeeper()
    await _apply(conn, keeper, _obs(home, device, 0))
    # The heartbeat check in some process, or another worker: this keeper still believes it online.
    async with conn.transaction():
        taken = await mark_silent_offline(conn, now=T0 + timedelta(minutes=5))
    assert [e.device_id for e in taken] == [device]
    back = await _apply(conn, keeper, _obs(home, device, 301))
    assert [(e.kind, e.detail) for e in back.events] == [("online", {"after": "missed_heartbeats"})]
    row = await _row(conn, device)
    assert row["online"] and row["last_seen_at"] == T0 + timedelta(seconds=301)
    kinds = await conn.fetch("SELECT kind FROM device_health_events WHERE device_id = $1 ORDER BY id", device)
    assert [r["kind"] for r in kinds] == ["online", "offline", "online"]


async def test_presence_and_status_messages_are_always_folded(conn: asyncpg.Connection) -> None:
    home, device = await _device(conn, "pendant")
    keeper = HealthKeeper()
    await _apply(conn, keeper, _obs(home, device, 0))
    gone = await _apply(conn, keeper, _obs(home, device, 1, "presence", state="offline"))
    assert [e.kind for e in gone.events] == ["offline"]
    status = _obs(home, device, 2, "status", battery=12, firmware="1.0", uptime_s=5)
    back = await _apply(conn, keeper, status, _obs(home, device, 3))
    assert [e.kind for e in back.events] == ["online", "low_battery"]
    row = await _row(conn, device)
    assert row["online"] and row["low_battery"] and row["battery_pct"] == 12
    assert row["last_seen_at"] == T0 + timedelta(seconds=3)


async def test_only_a_committed_batch_is_learned(conn: asyncpg.Connection) -> None:
    home, device = await _device(conn)
    keeper = HealthKeeper()
    with pytest.raises(RuntimeError):
        async with conn.transaction():
            await keeper.apply(conn, [_obs(home, device, 0)])
            raise RuntimeError("the batch fails after its health was written")
    assert await conn.fetchrow("SELECT 1 FROM device_health WHERE device_id = $1", device) is None
    again = await _apply(conn, keeper, _obs(home, device, 1))
    assert [e.kind for e in again.events] == ["online"]


async def test_many_devices_in_one_batch(conn: asyncpg.Connection) -> None:
    home, _ = await _device(conn)
    devices = [await queries.insert_device(conn, home_id=home, device_type="door_contact") for _ in range(50)]
    keeper = HealthKeeper(max_devices=30)  # forgets everything when full: still correct, just written again
    first = await _apply(
        conn, keeper, *[_obs(home, d, n % 3, "contact", open=True) for n, d in enumerate(devices)]
    )
    assert sorted(e.device_id for e in first.events) == sorted(devices)
    second = await _apply(conn, keeper, *[_obs(home, d, 4, "contact", open=False) for d in devices])
    assert second.events == []
    online = await conn.fetchval("SELECT count(*) FROM device_health WHERE online AND home_id = $1", home)
    assert online == len(devices)


async def test_a_device_with_a_long_grace_has_last_seen_written_less_often(conn: asyncpg.Connection) -> None:
    home, device = await _device(conn)  # a motion sensor: 3600 s heartbeat, 720 s grace
    keeper = HealthKeeper(interval_of=lambda _d: 3600.0)
    assert keeper.every_s(device) == 240.0  # a third of its grace
    assert HealthKeeper(interval_of=lambda _d: 60.0).every_s(device) == 10.0  # a hub: never under 10 s
    await _apply(conn, keeper, _obs(home, device, 0))
    quiet = await _apply(conn, keeper, _obs(home, device, 200))
    assert quiet.known == {}
    assert (await _row(conn, device))["last_seen_at"] == T0
    await _apply(conn, keeper, _obs(home, device, 241))
    assert (await _row(conn, device))["last_seen_at"] == T0 + timedelta(seconds=241)
