"""Provisioning through the real broker: each device publishes only what is its own."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
import orjson
import pytest

from devices import service as devices
from devices.contract import MessageKind, message_topic
from devices.dynsec import DynsecAdmin, connect_admin
from devices.errors import BrokerUnavailable, InvalidState
from homes import queries as home_queries
from kernel.connect import mqtt_config
from kernel.db import create_pool
from kernel.embedded import EmbeddedMosquitto
from kernel.mqtt import AsyncMqttClient, MqttConfig, MqttRefused
from kernel.settings import Settings
from telecare.services import run_ingest


@dataclass
class World:
    """Two homes, three devices, a running ingest worker."""

    pool: asyncpg.Pool
    admin: DynsecAdmin
    settings: Settings
    broker: EmbeddedMosquitto
    home_a: uuid.UUID
    home_b: uuid.UUID
    a1: devices.Provisioned
    a2: devices.Provisioned
    b1: devices.Provisioned

    def client(self, ident: devices.Provisioned, password: str | None = None) -> AsyncMqttClient:
        """An MQTT client using a device's identity."""
        return AsyncMqttClient(
            MqttConfig(
                host="127.0.0.1",
                port=self.broker.port,
                client_id=ident.client_id,
                username=ident.username,
                password=password or ident.password,
            )
        )

    def topic(self, home: uuid.UUID, device: uuid.UUID, kind: MessageKind = MessageKind.MOTION) -> str:
        """A device topic under this test's root."""
        return message_topic(self.settings.mqtt_topic_root, home, device, kind)


def motion(seq: int) -> bytes:
    """A valid motion payload."""
    return orjson.dumps({"ts": "2026-01-05T10:00:00Z", "seq": seq, "detected": True})


@pytest.fixture
async def world(settings: Settings, broker: EmbeddedMosquitto) -> AsyncIterator[World]:
    pool = await create_pool(settings.database_url or "", min_size=1, max_size=4)
    root = settings.mqtt_topic_root
    subscribed = asyncio.Event()
    ingest = asyncio.create_task(run_ingest(settings, subscribed=subscribed))
    try:
        await asyncio.wait_for(subscribed.wait(), 15)
        async with connect_admin(mqtt_config(settings, client_id=f"adm-{uuid.uuid4().hex[:6]}")) as admin:
            async with pool.acquire() as conn:
                org = await home_queries.insert_organisation(conn, name="Org")
                home_a = await home_queries.insert_home(conn, organisation_id=org, name="A")
                home_b = await home_queries.insert_home(conn, organisation_id=org, name="B")
            reg = devices.register_device
            a1 = await reg(
                pool, admin, topic_root=root, home_id=home_a, device_type="motion_sensor", room="kitchen"
            )
            a2 = await reg(pool, admin, topic_root=root, home_id=home_a, device_type="pendant")
            b1 = await reg(pool, admin, topic_root=root, home_id=home_b, device_type="motion_sensor")
            yield World(pool, admin, settings, broker, home_a, home_b, a1, a2, b1)
    finally:
        ingest.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await ingest
        await pool.close()


async def _count(pool: asyncpg.Pool, sql: str, *args: object) -> int:
    async with pool.acquire() as conn:
        return int(await conn.fetchval(sql, *args))


async def _wait_for(pool: asyncpg.Pool, sql: str, *args: object, expected: int = 1) -> None:
    async with asyncio.timeout(10):
        while await _count(pool, sql, *args) < expected:
            await asyncio.sleep(0.05)


async def test_a_device_publishes_only_under_its_own_topic(world: World) -> None:
    client = world.client(world.a1)
    await client.connect()
    try:
        await client.publish(world.topic(world.home_a, world.a1.device_id), motion(1))
        refused = [
            world.topic(world.home_a, world.a2.device_id),  # another device's topic, same home
            world.topic(world.home_b, world.b1.device_id),  # another home's device
            world.topic(world.home_b, world.a1.device_id),  # its own id under another home
            f"{world.a1.publish_topic[:-2]}/cmd",  # its own command topic
        ]
        for topic in refused:
            with pytest.raises(MqttRefused, match="Not authorized"):
                await client.publish(topic, motion(2))
        with pytest.raises(MqttRefused):
            await client.subscribe(f"{world.settings.mqtt_topic_root}/#")
        await client.subscribe(world.a1.command_topic)
    finally:
        await client.disconnect()
    await _wait_for(world.pool, "SELECT count(*) FROM readings WHERE device_id = $1", world.a1.device_id)
    await asyncio.sleep(0.3)  # give anything that slipped through the time to be stored
    assert await _count(world.pool, "SELECT count(*) FROM readings") == 1
    assert await _count(world.pool, "SELECT count(*) FROM dead_letters") == 0


async def test_anonymous_clients_cannot_connect(world: World) -> None:
    anonymous = AsyncMqttClient(MqttConfig(host="127.0.0.1", port=world.broker.port, client_id="anon-x"))
    with pytest.raises(MqttRefused):
        await anonymous.connect(timeout=5)
    stranger = world.client(world.a1, password="not-the-password")
    with pytest.raises(MqttRefused):
        await stranger.connect(timeout=5)


async def test_a_revoked_device_cannot_connect_and_rotation_reinstates_it(world: World) -> None:
    root = world.settings.mqtt_topic_root
    await devices.revoke(world.pool, world.admin, topic_root=root, device_id=world.a1.device_id)
    with pytest.raises(MqttRefused):
        await world.client(world.a1).connect(timeout=5)
    fresh = await devices.rotate_password(
        world.pool, world.admin, topic_root=root, device_id=world.a1.device_id
    )
    client = world.client(fresh)
    await client.connect()
    await client.disconnect()
    await devices.decommission(world.pool, world.admin, topic_root=root, device_id=world.a1.device_id)
    with pytest.raises(MqttRefused):
        await world.client(fresh).connect(timeout=5)
    with pytest.raises(InvalidState):
        await devices.rotate_password(world.pool, world.admin, topic_root=root, device_id=world.a1.device_id)


async def test_a_rotated_password_stops_the_old_one(world: World) -> None:
    root = world.settings.mqtt_topic_root
    rotated = await devices.rotate_password(
        world.pool, world.admin, topic_root=root, device_id=world.a2.device_id
    )
    assert rotated.password != world.a2.password
    with pytest.raises(MqttRefused):
        await world.client(world.a2).connect(timeout=5)
    client = world.client(rotated)
    await client.connect()
    await client.publish(
        world.topic(world.home_a, world.a2.device_id, MessageKind.ALARM), motion(9)[:-1] + b"}"
    )
    await client.disconnect()


async def test_a_failed_broker_call_leaves_no_half_registered_device(
    world: World, settings: Settings
) -> None:
    before = await _count(world.pool, "SELECT count(*) FROM devices")
    async with connect_admin(mqtt_config(settings, client_id="adm-broken")) as broken:
        await broken._client.disconnect()  # the broker is unreachable from here on
        broken._timeout_s = 1
        with pytest.raises(BrokerUnavailable):
            await devices.register_device(
                world.pool,
                broken,
                topic_root=settings.mqtt_topic_root,
                home_id=world.home_a,
                device_type="door_contact",
            )
    assert await _count(world.pool, "SELECT count(*) FROM devices") == before
    assert await _count(world.pool, "SELECT count(*) FROM device_credentials") == before


async def test_sync_reapplies_the_registry_after_the_broker_lost_state(world: World) -> None:
    root = world.settings.mqtt_topic_root
    lost = devices.device_acl(topic_root=root, home_id=world.home_b, device_id=world.b1.device_id)
    await world.admin.delete_device(lost)  # the broker forgets an active device
    await devices.revoke(world.pool, world.admin, topic_root=root, device_id=world.a2.device_id)
    ghost = devices.device_acl(topic_root=root, home_id=world.home_a, device_id=world.a2.device_id)
    await world.admin.create_device(ghost, "still-here")  # and remembers a revoked one
    report = await devices.sync_broker(world.pool, world.admin, topic_root=root)
    assert str(world.b1.device_id) in report.created
    assert str(world.a2.device_id) in report.removed
    assert await world.admin.get_client(lost.username) is not None
    assert await world.admin.get_client(ghost.username) is None
    again = await devices.sync_broker(world.pool, world.admin, topic_root=root)
    assert again.created == () and again.removed == ()
