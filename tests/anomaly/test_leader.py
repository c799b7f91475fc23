"""One active detector: a second one waits as a standby and takes over when the first stops."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable

import asyncpg
import pytest

from anomaly.leader import LeadershipLost, Partition, leadership, partition_leadership


async def test_a_standby_waits_then_takes_over(db_url: str) -> None:
    active = asyncio.Event()
    order: list[str] = []

    async def detector(label: str, hold: asyncio.Event) -> None:
        async with leadership(db_url, "main", retry_s=0.05):
            order.append(label)
            active.set()
            await hold.wait()

    first_done, second_done = asyncio.Event(), asyncio.Event()
    first = asyncio.create_task(detector("first", first_done))
    await asyncio.wait_for(active.wait(), 5)
    second = asyncio.create_task(detector("second", second_done))
    await asyncio.sleep(0.3)
    assert order == ["first"]  # the standby is still waiting
    first_done.set()
    await first
    await asyncio.wait_for(_until(lambda: order == ["first", "second"]), 5)
    second_done.set()
    await second


async def test_losing_the_lock_connection_stops_the_holder(db_url: str) -> None:
    async def detector() -> None:
        async with leadership(db_url, "main", check_s=0.05):
            await asyncio.sleep(30)

    task = asyncio.create_task(detector())
    admin = await asyncpg.connect(db_url)
    try:
        await asyncio.wait_for(_until_holder(admin), 5)
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
            "telecare-detector-main",
        )
        with pytest.raises(LeadershipLost):
            await asyncio.wait_for(task, 5)
    finally:
        await admin.close()


async def _until(condition: Callable[[], bool]) -> None:
    while not condition():
        await asyncio.sleep(0.02)


async def _until_holder(conn: asyncpg.Connection) -> None:
    while not await conn.fetchval("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"):
        await asyncio.sleep(0.02)


async def test_partitions_have_one_holder_each_and_a_standby_takes_over_a_failed_one(db_url: str) -> None:
    held: dict[str, Partition] = {}

    async def detector(label: str, hold: asyncio.Event) -> None:
        async with partition_leadership(db_url, "fleet", 2, retry_s=0.05) as partition:
            held[label] = partition
            await hold.wait()

    holds = {label: asyncio.Event() for label in ("a", "b", "spare")}
    tasks = {label: asyncio.create_task(detector(label, holds[label])) for label in ("a", "b")}
    await asyncio.wait_for(_until(lambda: len(held) == 2), 5)
    tasks["spare"] = asyncio.create_task(detector("spare", holds["spare"]))
    await asyncio.sleep(0.3)
    assert sorted(p.index for p in held.values()) == [0, 1] and "spare" not in held
    failed = held["b"]
    tasks["b"].cancel()  # b's process dies: its connection, and with it its lock, goes
    with contextlib.suppress(asyncio.CancelledError):
        await tasks["b"]
    await asyncio.wait_for(_until(lambda: "spare" in held), 5)
    assert held["spare"] == failed
    homes = [uuid.uuid4() for _ in range(200)]
    assert all(held["a"].owns(h) != held["spare"].owns(h) for h in homes)  # disjoint, and all covered
    for label in ("a", "spare"):
        holds[label].set()
        await tasks[label]
