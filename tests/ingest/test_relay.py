"""A home hub's batches through the real broker and ingest: each reading stored once, refusals alone."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import orjson
import pytest

from devices import service as devices
from devices.contract import MessageKind, message_topic
from devices.dynsec import connect_admin
from devices.hubs import batch_topic
from homes import queries as home_queries
from kernel.connect import mqtt_config
from kernel.db import create_pool
from kernel.embedded import EmbeddedMosquitto
from kernel.mqtt import AsyncMqttClient, MqttConfig
from kernel.settings import Settings
from telecare.services import run_ingest
from tests.support import wait_until

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)


@dataclass
class Fleet:
    """Two homes with a hub and two sensors each, a running ingest worker, the first hub connected."""

    pool: asyncpg.Pool
    root: str
    home: uuid.UUID
    hub: devices.Provisioned
    sensors: list[devices.Provisioned]
    other_home: uuid.UUID
    other_sensor: devices.Provisioned
    client: AsyncMqttClient

    async def send(self, items: list[dict[str, Any]], *, hub: uuid.UUID | None = None) -> None:
        """Publish one batch on a hub's batch topic (the fleet's hub by default)."""
        topic = batch_topic(self.root, self.home, hub or self.hub.device_id)
        await self.client.publish(topic, orjson.dumps({"v": 1, "readings": items}))

    async def count(self, sql: str, *args: object) -> int:
        """A count from the database."""
        async with self.pool.acquire() as conn:
            return int(await conn.fetchval(sql, *args))


def item(
    device: devices.Provisioned | uuid.UUID, seq: int, kind: str = "motion", **fields: Any
) -> dict[str, Any]:
    """One batch item for a device."""
    device_id = device if isinstance(device, uuid.UUID) else device.device_id
    body = fields or ({"detected": seq % 2 == 0} if kind == "motion" else {})
    return {
        "device_id": str(device_id),
        "kind": kind,
        "ts": (T0 + timedelta(seconds=seq)).isoformat(),
        "seq": seq,
        **body,
    }


@pytest.fixture
async def fleet(settings: Settings, broker: EmbeddedMosquitto) -> AsyncIterator[Fleet]:
    pool = await create_pool(settings.database_url or "", min_size=1, max_size=4)
    root = settings.mqtt_topic_root
    subscribed = asyncio.Event()
    worker = asyncio.create_task(run_ingest(settings, subscribed=subscribed))
    try:
        await asyncio.wait_for(subscribed.wait(), 30)
        async with connect_admin(mqtt_config(settings, client_id=f"adm-{uuid.uuid4().hex[:6]}")) as admin:
            async with pool.acquire() as conn:
                org = await home_queries.insert_organisation(conn, name="Org")
                home = await home_queries.insert_home(conn, organisation_id=org, name="A")
                other = await home_queries.insert_home(conn, organisation_id=org, name="B")

            async def reg(home_id: uuid.UUID, kind: str) -> devices.Provisioned:
                return await devices.register_device(
                    pool, admin, topic_root=root, home_id=home_id, device_type=kind
                )

            hub = await reg(home, "hub")
            sensors = [await reg(home, "motion_sensor"), await reg(home, "pendant")]
            other_sensor = await reg(other, "motion_sensor")
        client = AsyncMqttClient(
            MqttConfig(
                host="127.0.0.1",
                port=broker.port,
                client_id=hub.client_id,
                username=hub.username,
                password=hub.password,
            )
        )
        await client.connect()
        try:
            yield Fleet(pool, root, home, hub, sensors, other, other_sensor, client)
        finally:
            await client.disconnect()
    finally:
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker
        await pool.close()


async def test_a_batch_stores_each_reading_once_and_a_redelivery_adds_nothing(fleet: Fleet) -> None:
    motion, pendant = fleet.sensors
    batch = [item(motion, n) for n in range(1, 6)] + [item(pendant, 1, "heartbeat")]
    await fleet.send(batch)
    await fleet.send(batch)  # the same batch again, as the broker redelivers an unacknowledged one
    await fleet.send([item(motion, 1), item(motion, 6)])  # an overlap with the first
    await wait_until(fleet.pool, "SELECT count(*) FROM readings", at_least=7)
    await asyncio.sleep(0.5)
    rows = await fleet.count("SELECT count(*) FROM readings")
    per_key = await fleet.count("SELECT count(DISTINCT (device_id, seq)) FROM readings")
    assert (rows, per_key) == (7, 7)
    assert await fleet.count("SELECT count(*) FROM dead_letters") == 0
    async with fleet.pool.acquire() as conn:
        stored = await conn.fetch("SELECT device_id, home_id, kind, time FROM readings WHERE seq = 3")
        health = await conn.fetch("SELECT device_id, online FROM device_health")
    assert [(r["device_id"], r["home_id"], r["kind"]) for r in stored] == [
        (motion.device_id, fleet.home, "motion")
    ]
    assert stored[0]["time"] == T0 + timedelta(seconds=3)  # each item keeps its own event time
    # The devices behind the hub are online from their relayed readings.
    assert {r["device_id"] for r in health if r["online"]} == {motion.device_id, pendant.device_id}


async def test_another_homes_device_in_a_batch_is_dead_lettered_and_the_rest_stored(fleet: Fleet) -> None:
    motion, _ = fleet.sensors
    stranger = uuid.uuid4()
    await fleet.send(
        [
            item(motion, 1),
            item(fleet.other_sensor, 1),  # registered, but to another home
            item(stranger, 1),  # not registered at all
            item(motion, 2, "motion", detected="yes"),  # breaks the motion message's own rules
            item(motion, 3),
        ]
    )
    await wait_until(fleet.pool, "SELECT count(*) FROM dead_letters", at_least=3)
    await wait_until(fleet.pool, "SELECT count(*) FROM readings", at_least=2)
    async with fleet.pool.acquire() as conn:
        letters = await conn.fetch("SELECT topic, payload, reason, detail FROM dead_letters ORDER BY detail")
        seqs = await conn.fetch("SELECT device_id, seq FROM readings ORDER BY seq")
    assert [(r["device_id"], r["seq"]) for r in seqs] == [(motion.device_id, 1), (motion.device_id, 3)]
    by_reason = {r["reason"]: r for r in letters}
    assert set(by_reason) == {"home_mismatch", "unknown_device", "wrong_type"}
    mismatch = by_reason["home_mismatch"]
    assert mismatch["detail"].startswith("readings[1]: ")
    assert f"not registered to the home of hub {fleet.hub.device_id}" in mismatch["detail"]
    assert orjson.loads(mismatch["payload"])["device_id"] == str(fleet.other_sensor.device_id)
    assert mismatch["topic"] == batch_topic(fleet.root, fleet.home, fleet.hub.device_id)
    assert by_reason["unknown_device"]["detail"].startswith("readings[2]: ")
    assert by_reason["wrong_type"]["detail"].startswith("readings[3]: ")
    assert (
        await fleet.count("SELECT count(*) FROM readings WHERE device_id = $1", fleet.other_sensor.device_id)
        == 0
    )


async def test_only_a_hub_may_send_batches_and_a_bad_envelope_is_one_dead_letter(fleet: Fleet) -> None:
    motion, _ = fleet.sensors
    # The hub may publish under its home's topics, so it can reach a sensor's batch topic: still refused.
    await fleet.send([item(motion, 1)], hub=motion.device_id)
    await fleet.client.publish(batch_topic(fleet.root, fleet.home, fleet.hub.device_id), b'{"readings": 3}')
    await wait_until(fleet.pool, "SELECT count(*) FROM dead_letters", at_least=2)
    async with fleet.pool.acquire() as conn:
        reasons = [r["reason"] for r in await conn.fetch("SELECT reason FROM dead_letters ORDER BY id")]
    assert sorted(reasons) == ["not_a_hub", "wrong_type"]
    assert await fleet.count("SELECT count(*) FROM readings") == 0


async def test_an_alarm_in_a_batch_is_stored_at_once(fleet: Fleet) -> None:
    _, pendant = fleet.sensors
    await fleet.send([item(pendant, 10, "alarm", button="pendant"), item(pendant, 11, "heartbeat")])
    await wait_until(fleet.pool, "SELECT count(*) FROM readings", at_least=2)
    assert await fleet.count("SELECT count(*) FROM readings WHERE kind = 'alarm'") == 1


async def test_a_hub_may_publish_a_single_reading_on_its_devices_own_topic(fleet: Fleet) -> None:
    motion, _ = fleet.sensors
    body = orjson.dumps({"ts": T0.isoformat(), "seq": 50, "detected": True})
    await fleet.client.publish(
        message_topic(fleet.root, fleet.home, motion.device_id, MessageKind.MOTION), body
    )
    await wait_until(fleet.pool, "SELECT count(*) FROM readings WHERE seq = 50", at_least=1)
