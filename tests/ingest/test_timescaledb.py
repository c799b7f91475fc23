"""The production storage path end to end: through the real broker and ingest worker into a hypertable,
each reading once, and the hourly continuous aggregate counting them. Skips where the PostgreSQL has no
TimescaleDB (the skip says how to get it)."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta

import orjson

from devices.contract import MessageKind, message_topic
from kernel.db import create_pool
from kernel.embedded import EmbeddedMosquitto
from kernel.mqtt import AsyncMqttClient
from kernel.settings import Settings
from telecare.services import run_ingest
from tests.support import register_devices, rig_publisher, wait_until


async def test_readings_reach_the_hypertable_once_and_the_hourly_aggregate(
    settings: Settings, broker: EmbeddedMosquitto, ts_db_url: str
) -> None:
    ts = settings.model_copy(update={"database_url": ts_db_url})
    pool = await create_pool(ts_db_url, min_size=1, max_size=2)
    subscribed = asyncio.Event()
    worker = asyncio.create_task(run_ingest(ts, subscribed=subscribed))
    client: AsyncMqttClient | None = None
    try:
        await asyncio.wait_for(subscribed.wait(), 60)
        found = await register_devices(pool, ts, homes=1, per_home=2)
        client = AsyncMqttClient(await rig_publisher(ts, broker))
        await client.connect()
        hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
        for device in found:
            topic = message_topic(ts.mqtt_topic_root, device.home_id, device.device_id, MessageKind.MOTION)
            for seq in (1, 2, 3, 3):  # the last one a redelivery
                at = (hour + timedelta(minutes=seq)).isoformat()
                await client.publish(topic, orjson.dumps({"ts": at, "seq": seq, "detected": True}))
        await wait_until(pool, "SELECT count(*) FROM readings", at_least=6, timeout=60)
        async with pool.acquire() as conn:
            mode = await conn.fetchval("SELECT mode FROM storage_mode")
            chunks = await conn.fetchval(
                "SELECT count(*) FROM timescaledb_information.chunks WHERE hypertable_name = 'readings'"
            )
            rows = await conn.fetch("SELECT device_id, seq FROM readings ORDER BY device_id, seq")
            hourly = await conn.fetch(
                "SELECT device_id, bucket, n FROM readings_hourly WHERE kind = 'motion' ORDER BY device_id"
            )
    finally:
        if client is not None:
            await client.disconnect()
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker
        await pool.close()
    ids = sorted(d.device_id for d in found)
    assert mode == "timescaledb" and chunks >= 1
    assert [(r["device_id"], r["seq"]) for r in rows] == [(d, s) for d in ids for s in (1, 2, 3)]
    assert [(r["device_id"], r["bucket"], r["n"]) for r in hourly] == [(d, hour, 3) for d in ids]
