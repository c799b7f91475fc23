"""Detectors on partitions of the homes, through the real broker, ingest and database: each alarm is one
alert whichever process watches its home, and a standby takes over the partition of one that fails."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import UTC, datetime

import orjson

from anomaly.leader import Partition
from devices import service as devices
from devices.dynsec import connect_admin
from homes import queries as home_queries
from kernel.connect import mqtt_config
from kernel.mqtt import AsyncMqttClient
from telecare.services import run_detector
from tests.support import Rig, wait_until


async def _a_home_in_each_partition(rig: Rig) -> list[uuid.UUID]:
    """A home of partition 0 and one of partition 1 (of two): new homes until both are there."""
    found: dict[int, uuid.UUID] = {}
    async with rig.pool.acquire() as conn:
        org = await conn.fetchval("SELECT organisation_id FROM homes LIMIT 1")
        while len(found) < 2:
            home = await home_queries.insert_home(conn, organisation_id=org, name="Partitioned")
            found.setdefault(0 if Partition(0, 2).owns(home) else 1, home)
    return [found[0], found[1]]


async def test_partitioned_detectors_raise_each_alarm_once_and_a_standby_takes_over(rig: Rig) -> None:
    settings = rig.settings.model_copy(
        update={"detector_partitions": 2, "detector_tick_s": 0.2, "detector_poll_ms": 50}
    )
    homes = await _a_home_in_each_partition(rig)
    root = settings.mqtt_topic_root
    async with connect_admin(mqtt_config(settings, client_id=f"adm-{uuid.uuid4().hex[:6]}")) as admin:
        pendants = [
            await devices.register_device(rig.pool, admin, topic_root=root, home_id=h, device_type="pendant")
            for h in homes
        ]
    readies = [asyncio.Event() for _ in range(3)]
    detectors = [asyncio.create_task(run_detector(settings, ready=r)) for r in readies[:2]]
    client = AsyncMqttClient(rig.publisher)
    await client.connect()
    seq = 0

    async def press(n: int) -> None:
        nonlocal seq
        seq += 1
        body = orjson.dumps({"ts": datetime.now(UTC).isoformat(), "seq": seq})
        await client.publish(f"{root}/v1/{homes[n]}/{pendants[n].device_id}/alarm", body)

    alerts = "SELECT count(*) FROM alerts WHERE kind = 'alarm_pressed'"
    try:
        await asyncio.wait_for(asyncio.gather(readies[0].wait(), readies[1].wait()), 30)
        spare = asyncio.create_task(run_detector(settings, ready=readies[2]))
        detectors.append(spare)
        await press(0)
        await press(1)
        await wait_until(rig.pool, alerts, at_least=2, timeout=60)
        # The first detector fails; the standby takes its partition over, from its saved cursor.
        detectors[0].cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await detectors[0]
        await asyncio.wait_for(readies[2].wait(), 30)
        async with rig.pool.acquire() as conn:
            await conn.execute("UPDATE alerts SET status = 'resolved', resolved_at = now()")
        await press(0)
        await press(1)
        await wait_until(rig.pool, alerts, at_least=4, timeout=60)
        await asyncio.sleep(1.0)
        async with rig.pool.acquire() as conn:
            per_home = await conn.fetch(
                "SELECT home_id, count(*) AS n FROM alerts WHERE kind = 'alarm_pressed' GROUP BY home_id"
            )
            cursors = await conn.fetch("SELECT name FROM detector_cursors ORDER BY name")
    finally:
        await client.disconnect()
        for task in detectors:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    assert {r["home_id"]: r["n"] for r in per_home} == {homes[0]: 2, homes[1]: 2}
    assert [r["name"] for r in cursors] == ["detector:0/2", "detector:1/2"]
