"""Before and after each change that made many quiet devices cheaper, measured on the fleet's database.

- directory: the registry asked about devices whose cache entry expired, one query per device as the
  router did (each awaited before the next message), against one query per slice of 64 messages;
- health: a batch of 500 devices not known to the worker sending ordinary readings, written the old
  way (lock and read every row, fold, upsert all twelve columns) against the new (one UPDATE of when
  each was seen, where the row says online);
- memory: the worker's per-device caches, the old shapes (a UUID key, a tuple per entry) against the
  new (the id's integer, shared route tuples; a float per device in the health keeper);
- last seen: how often a quiet motion sensor's row is rewritten (arithmetic from the constants).
"""

from __future__ import annotations

import random
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg

from devices import queries as device_queries
from devices.health import LAST_SEEN_EVERY, HealthKeeper, Observation, _fold_and_write
from ingest.directory import DeviceDirectory
from kernel.db import create_pool
from simulators.fleet import KIT, device_id, home_id


def _sample(homes: int, count: int, seed: int) -> list[tuple[UUID, UUID]]:
    rng = random.Random(seed)
    picked: set[tuple[int, int]] = set()
    while len(picked) < count:
        picked.add((rng.randrange(homes), rng.randrange(len(KIT))))
    return [(home_id(n), device_id(n, k)) for n, k in sorted(picked)]


async def _directory(pool: asyncpg.Pool, homes: int) -> dict[str, float]:
    devices = [d for _, d in _sample(homes, 3000, 1)]
    one = DeviceDirectory(pool)
    started = time.perf_counter()
    for device in devices[:1000]:
        await one.lookup(device)  # what the router awaited for each expired device
    before = 1000 / (time.perf_counter() - started)
    many = DeviceDirectory(pool)
    started = time.perf_counter()
    for first in range(1000, 3000, 64):
        await many.lookup_many(devices[first : first + 64])
    after = 2000 / (time.perf_counter() - started)
    return {"before_devices_per_s": round(before), "after_devices_per_s": round(after)}


def _observations(homes: int, count: int, seed: int) -> list[Observation]:
    now = datetime.now(UTC)
    return [
        Observation(device, home, now, now, "motion", {"detected": True})
        for home, device in _sample(homes, count, seed)
    ]


async def _health(pool: asyncpg.Pool, homes: int) -> dict[str, float]:
    async def old_way(conn: asyncpg.Connection, batch: list[Observation]) -> None:
        ids = [o.device_id for o in batch]
        current = await device_queries.lock_health(conn, device_ids=ids)
        await _fold_and_write(conn, {o.device_id: [o] for o in batch}, current)

    async def new_way(conn: asyncpg.Connection, batch: list[Observation]) -> None:
        await HealthKeeper().apply(conn, batch)

    out: dict[str, float] = {}
    # Before: the index on (online, last_seen_at) that migration 0018 dropped, so no update was HOT.
    async with pool.acquire() as conn:
        await conn.execute(f"CREATE INDEX {_OLD_INDEX} ON device_health (online, last_seen_at)")
    runs = (("before", old_way, True), ("touch_not_hot", new_way, True), ("after", new_way, False))
    for n, (name, way, indexed) in enumerate(runs):
        # Other devices each time: each starts from its provisioned row.
        batches = [_observations(homes, 500, seed) for seed in range(10 * n + 10, 10 * n + 20)]
        spent = 0.0
        async with pool.acquire() as conn:
            if not indexed:
                await conn.execute(f"DROP INDEX IF EXISTS {_OLD_INDEX}")
            for batch in batches:
                started = time.perf_counter()
                async with conn.transaction():
                    await way(conn, batch)
                spent += time.perf_counter() - started
        out[f"{name}_ms_per_500_devices"] = round(spent / len(batches) * 1000, 1)
    return out


_OLD_INDEX = "device_health_online_idx"


def _memory(devices: int = 100_000) -> dict[str, float]:
    home = UUID(int=1)
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    old = {UUID(int=n + 10): ((UUID(int=n // 12 + 1), "active"), time.monotonic()) for n in range(devices)}
    old_bytes = tracemalloc.get_traced_memory()[0] - base
    del old
    base = tracemalloc.get_traced_memory()[0]
    shared = (home, "active", False, 3600.0, 7)
    new = {UUID(int=n + 10).int: shared for n in range(devices)}
    new_bytes = tracemalloc.get_traced_memory()[0] - base
    del new
    base = tracemalloc.get_traced_memory()[0]
    seen = datetime.now(UTC)
    old_known = {UUID(int=n + 10): (True, seen + timedelta(microseconds=n)) for n in range(devices)}
    old_known_bytes = tracemalloc.get_traced_memory()[0] - base
    del old_known
    base = tracemalloc.get_traced_memory()[0]
    new_known = {UUID(int=n + 10).int: 1.7e9 + n for n in range(devices)}
    new_known_bytes = tracemalloc.get_traced_memory()[0] - base
    del new_known
    tracemalloc.stop()
    return {
        "directory_bytes_per_device_before": round(old_bytes / devices),
        "directory_bytes_per_device_after": round(new_bytes / devices),
        "health_keeper_bytes_per_device_before": round(old_known_bytes / devices),
        "health_keeper_bytes_per_device_after": round(new_known_bytes / devices),
    }


async def _heartbeat_check(pool: asyncpg.Pool) -> dict[str, Any]:
    """One pass of the heartbeat check over the whole fleet (rolled back), and how HOT health updates are."""
    async with pool.acquire() as conn:
        tx = conn.transaction()
        await tx.start()
        started = time.perf_counter()
        marked = await device_queries.mark_silent_offline(
            conn, now=datetime.now(UTC) + timedelta(hours=2), grace_fraction=0.2, min_grace_s=30
        )
        spent = time.perf_counter() - started
        await tx.rollback()
        hot = await conn.fetchrow(
            "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = 'device_health'"
        )
    return {
        "ms": round(spent * 1000, 1),
        "devices_found_silent": len(marked),
        "health_updates": hot["n_tup_upd"],
        "of_which_hot": hot["n_tup_hot_upd"],
    }


async def measure(dsn: str, homes: int) -> dict[str, Any]:
    """Every before/after pair on the provisioned fleet (its device_health rows online)."""
    pool = await create_pool(dsn, min_size=1, max_size=2)
    try:
        directory = await _directory(pool, homes)
        health = await _health(pool, homes)
        check = await _heartbeat_check(pool)
    finally:
        await pool.close()
    # A motion sensor heard every 60 s: its row rewritten every LAST_SEEN_EVERY before, every third of
    # its type's grace (720 s) after.
    after_s = HealthKeeper(interval_of=lambda _d: 3600.0).every_s(UUID(int=1))
    every_before = max(LAST_SEEN_EVERY.total_seconds(), 60.0)
    return {
        "directory_lookups": directory,
        "health_batch": health,
        "memory": _memory(),
        "heartbeat_check_whole_fleet_two_hours_silent": check,
        "last_seen_writes_per_hour_motion_sensor_every_60s": {
            "before": round(3600 / every_before),
            "after": round(3600 / max(after_s, 60.0)),
        },
    }
