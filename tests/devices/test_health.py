"""Device health: the fold, the last will through the real broker, and missed heartbeats."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import orjson

from devices import service as devices
from devices.contract import MessageKind, message_topic
from devices.dynsec import connect_admin
from devices.health import Health, Observation, fold, grace_for, mark_silent_offline
from homes import queries as home_queries
from kernel.connect import mqtt_config
from kernel.db import create_pool
from kernel.embedded import EmbeddedMosquitto
from kernel.mqtt import AsyncMqttClient, MqttConfig, Will
from kernel.settings import Settings
from telecare.services import run_ingest

T0 = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
DEV, HOME = uuid.uuid4(), uuid.uuid4()


def obs(kind: str, minutes: float, **payload: object) -> Observation:
    at = T0 + timedelta(minutes=minutes)
    return Observation(DEV, HOME, at, at, kind, dict(payload))


def test_first_message_brings_a_device_online_and_a_will_takes_it_offline() -> None:
    health, events = fold(Health(DEV, HOME), [obs("heartbeat", 0), obs("motion", 1, detected=True)])
    assert health.online and health.last_seen_at == T0 + timedelta(minutes=1)
    assert [e.kind for e in events] == ["online"] and events[0].detail == {"after": "never_seen"}
    health, events = fold(health, [obs("presence", 2, state="offline")])
    assert not health.online and health.offline_reason == "disconnected"
    assert [e.kind for e in events] == ["offline"]


def test_low_battery_is_reported_once_with_hysteresis() -> None:
    status = [
        obs("status", i, battery=b, firmware="1.0", uptime_s=i)
        for i, b in enumerate([30, 19, 18, 22, 26, 19])
    ]
    health, events = fold(Health(DEV, HOME), status)
    assert [e.kind for e in events] == ["online", "low_battery", "battery_ok", "low_battery"]
    assert health.battery_pct == 19 and health.low_battery and health.firmware == "1.0"


def test_grace_is_at_least_thirty_seconds_and_scales_with_the_interval() -> None:
    assert grace_for(timedelta(seconds=60)) == timedelta(seconds=30)
    assert grace_for(timedelta(hours=1)) == timedelta(minutes=12)


async def _device(
    db_url: str, settings: Settings, device_type: str
) -> tuple[asyncpg.Pool, devices.Provisioned]:
    pool = await create_pool(db_url, min_size=1, max_size=3)
    async with pool.acquire() as conn:
        org = await home_queries.insert_organisation(conn, name="Org")
        home = await home_queries.insert_home(conn, organisation_id=org, name="Home")
    async with connect_admin(mqtt_config(settings, client_id=f"adm-{uuid.uuid4().hex[:6]}")) as admin:
        ident = await devices.register_device(
            pool, admin, topic_root=settings.mqtt_topic_root, home_id=home, device_type=device_type
        )
    return pool, ident


async def _health(pool: asyncpg.Pool, device_id: uuid.UUID) -> asyncpg.Record | None:
    async with pool.acquire() as conn:
        return await conn.fetchrow("SELECT * FROM device_health WHERE device_id = $1", device_id)


async def test_a_last_will_marks_the_device_offline_at_once(
    db_url: str, settings: Settings, broker: EmbeddedMosquitto
) -> None:
    pool, ident = await _device(db_url, settings, "pendant")
    subscribed = asyncio.Event()
    ingest = asyncio.create_task(run_ingest(settings, subscribed=subscribed))
    try:
        await asyncio.wait_for(subscribed.wait(), 15)
        root = settings.mqtt_topic_root
        presence = message_topic(root, ident.home_id, ident.device_id, MessageKind.PRESENCE)
        will = orjson.dumps({"ts": datetime.now(UTC).isoformat(), "seq": 2, "state": "offline"})
        client = AsyncMqttClient(
            MqttConfig(
                host="127.0.0.1",
                port=broker.port,
                client_id=ident.client_id,
                username=ident.username,
                password=ident.password,
            ),
            will=Will(presence, will),
        )
        await client.connect()
        online = orjson.dumps({"ts": datetime.now(UTC).isoformat(), "seq": 1, "state": "online"})
        await client.publish(presence, online, retain=True)
        async with asyncio.timeout(10):
            while not ((row := await _health(pool, ident.device_id)) and row["online"]):
                await asyncio.sleep(0.05)
        await client.disconnect(send_will=True)
        async with asyncio.timeout(5):
            while (row := await _health(pool, ident.device_id)) and row["online"]:
                await asyncio.sleep(0.05)
        assert row is not None and row["offline_reason"] == "disconnected"
        async with pool.acquire() as conn:
            kinds = [r["kind"] for r in await conn.fetch("SELECT kind FROM device_health_events ORDER BY id")]
        assert kinds == ["online", "offline"]
    finally:
        ingest.cancel()
        await asyncio.gather(ingest, return_exceptions=True)
        await pool.close()


async def test_missed_heartbeats_take_a_device_offline_after_interval_plus_grace(
    db_url: str, settings: Settings
) -> None:
    pool, ident = await _device(db_url, settings, "pendant")  # heartbeat interval 300 s
    try:
        async with pool.acquire() as conn:
            await conn.execute(
                "INSERT INTO device_health (device_id, home_id, last_seen_at, online)"
                " VALUES ($1, $2, $3, true)",
                ident.device_id,
                ident.home_id,
                T0,
            )
            limit = T0 + timedelta(seconds=300) + grace_for(timedelta(seconds=300))
            assert await mark_silent_offline(conn, now=limit - timedelta(seconds=1)) == []
            events = await mark_silent_offline(conn, now=limit + timedelta(seconds=1))
            assert [(e.device_id, e.kind, e.detail["reason"]) for e in events] == [
                (ident.device_id, "offline", "missed_heartbeats")
            ]
            assert await mark_silent_offline(conn, now=limit + timedelta(minutes=5)) == []
            row = await conn.fetchrow(
                "SELECT online, offline_reason FROM device_health WHERE device_id = $1", ident.device_id
            )
            assert row is not None and not row["online"] and row["offline_reason"] == "missed_heartbeats"
    finally:
        await pool.close()
