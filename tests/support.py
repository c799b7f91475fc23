"""Test support: registered devices, a running ingest worker and a test-rig publisher."""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
import httpx
import pytest

from devices import service as devices
from devices.dynsec import connect_admin
from homes import queries as home_queries
from kernel.connect import mqtt_config
from kernel.db import create_pool
from kernel.embedded import EmbeddedMosquitto
from kernel.mqtt import MqttConfig
from kernel.settings import Settings
from simulators.load import LoadDevice, create_rig_identity
from telecare.services import run_ingest


@dataclass
class Rig:
    """A running ingest worker, a few registered devices and a publisher allowed under the test's root."""

    pool: asyncpg.Pool
    settings: Settings
    publisher: MqttConfig
    devices: list[LoadDevice]


async def register_devices(
    pool: asyncpg.Pool, settings: Settings, *, homes: int, per_home: int
) -> list[LoadDevice]:
    """Register `homes` homes with `per_home` motion sensors each, through the real broker."""
    result = []
    async with connect_admin(mqtt_config(settings, client_id=f"adm-{uuid.uuid4().hex[:6]}")) as admin:
        async with pool.acquire() as conn:
            org = await home_queries.insert_organisation(conn, name="Org")
        for h in range(homes):
            async with pool.acquire() as conn:
                home = await home_queries.insert_home(conn, organisation_id=org, name=f"Home {h}")
            for _ in range(per_home):
                ident = await devices.register_device(
                    pool,
                    admin,
                    topic_root=settings.mqtt_topic_root,
                    home_id=home,
                    device_type="motion_sensor",
                )
                result.append(LoadDevice(home, ident.device_id))
    return result


async def rig_publisher(settings: Settings, broker: EmbeddedMosquitto) -> MqttConfig:
    """Credentials of a test rig that may publish anywhere under this test's topic root."""
    async with connect_admin(mqtt_config(settings, client_id=f"adm-{uuid.uuid4().hex[:6]}")) as admin:
        username = await create_rig_identity(
            admin, topic_root=settings.mqtt_topic_root, password="rig-password"
        )
    return MqttConfig(
        host="127.0.0.1",
        port=broker.port,
        client_id=f"rig-{uuid.uuid4().hex[:8]}",
        username=username,
        password="rig-password",
    )


@pytest.fixture
async def rig(settings: Settings, broker: EmbeddedMosquitto) -> AsyncIterator[Rig]:
    pool = await create_pool(settings.database_url or "", min_size=1, max_size=4)
    subscribed = asyncio.Event()
    worker = asyncio.create_task(run_ingest(settings, subscribed=subscribed))
    try:
        await asyncio.wait_for(subscribed.wait(), 15)
        found = await register_devices(pool, settings, homes=2, per_home=2)
        yield Rig(pool, settings, await rig_publisher(settings, broker), found)
    finally:
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker
        await pool.close()


async def wait_until(pool: asyncpg.Pool, sql: str, *args: object, at_least: int, timeout: float = 20) -> int:
    """Poll a count query until it reaches at_least; returns the count."""
    async with asyncio.timeout(timeout):
        while True:
            async with pool.acquire() as conn:
                count = int(await conn.fetchval(sql, *args))
            if count >= at_least:
                return count
            await asyncio.sleep(0.05)


async def wait_for_http(url: str, path: str, *, timeout: float = 30) -> None:
    """Poll a server until `path` answers 200 (it is up and ready)."""
    async with httpx.AsyncClient(base_url=url) as probe, asyncio.timeout(timeout):
        while True:
            with contextlib.suppress(httpx.TransportError):
                if (await probe.get(path)).status_code == 200:
                    return
            await asyncio.sleep(0.05)


def telecare_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment for a `telecare` process using this test's database, broker and topic root."""
    password = settings.mqtt_password.get_secret_value() if settings.mqtt_password else ""
    return {
        **os.environ,
        "TELECARE_DATABASE_URL": settings.database_url or "",
        "TELECARE_MQTT_URL": settings.mqtt_url or "",
        "TELECARE_MQTT_USERNAME": settings.mqtt_username or "",
        "TELECARE_MQTT_PASSWORD": password,
        "TELECARE_MQTT_TOPIC_ROOT": settings.mqtt_topic_root,
        "TELECARE_LOG_LEVEL": "WARNING",
        **extra,
    }
