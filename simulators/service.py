"""Simulated homes that publish through the real broker with credentials from provisioning."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from uuid import UUID

import asyncpg
import orjson

from devices import queries as device_queries
from devices import service as devices
from devices.dynsec import DynsecAdmin
from devices.schemas import MessageKind, message_topic
from telecare.mqtt import AsyncMqttClient, MqttConfig, Will

log = logging.getLogger(__name__)

DEMO_ORGANISATION = "Demo care provider"
_ROOMS = ("kitchen", "lounge", "bedroom", "bathroom", "hallway")


@dataclass
class SimDevice:
    """One simulated device with its broker identity."""

    identity: devices.Provisioned
    room: str
    kind: MessageKind
    seq: int = field(default_factory=lambda: time.time_ns() // 1_000_000)

    def next_seq(self) -> int:
        """Sequence numbers keep rising across restarts because they start from the clock."""
        self.seq += 1
        return self.seq


@dataclass
class SimHome:
    """A provisioned home and its devices."""

    home_id: UUID
    name: str
    devices: list[SimDevice]


async def provision_demo_homes(
    pool: asyncpg.Pool, admin: DynsecAdmin, *, topic_root: str, count: int
) -> list[SimHome]:
    """Find or create `count` demo homes with a motion sensor per room; fresh passwords each start."""
    homes = []
    async with pool.acquire() as conn:
        org = await conn.fetchval("SELECT id FROM organisations WHERE name = $1", DEMO_ORGANISATION)
        if org is None:
            org = await device_queries.insert_organisation(conn, name=DEMO_ORGANISATION)
        existing = {
            r["name"]: r["id"]
            for r in await conn.fetch("SELECT id, name FROM homes WHERE organisation_id = $1", org)
        }
    for n in range(1, count + 1):
        name = f"Demo home {n}"
        home_id = existing.get(name)
        if home_id is None:
            async with pool.acquire() as conn:
                home_id = await device_queries.insert_home(conn, organisation_id=org, name=name)
        homes.append(SimHome(home_id, name, await _motion_sensors(pool, admin, topic_root, home_id)))
    return homes


async def _motion_sensors(
    pool: asyncpg.Pool, admin: DynsecAdmin, topic_root: str, home_id: UUID
) -> list[SimDevice]:
    async with pool.acquire() as conn:
        rows = await device_queries.list_devices(conn, home_id=home_id)
    have = {r["room"]: r["id"] for r in rows if r["type"] == "motion_sensor" and r["status"] == "active"}
    result = []
    for room in _ROOMS:
        if room in have:
            identity = await devices.rotate_password(pool, admin, topic_root=topic_root, device_id=have[room])
        else:
            identity = await devices.register_device(
                pool, admin, topic_root=topic_root, home_id=home_id, device_type="motion_sensor", room=room
            )
        result.append(SimDevice(identity, room, MessageKind.MOTION))
    return result


async def run_device(
    device: SimDevice, *, host: str, port: int, topic_root: str, interval_s: float, rng: random.Random
) -> None:
    """Connect as the device and publish motion now and then, with a retained presence and a last will."""
    ident = device.identity
    presence = message_topic(topic_root, ident.home_id, ident.device_id, MessageKind.PRESENCE)
    offline = orjson.dumps({"ts": datetime.now(UTC).isoformat(), "seq": 0, "state": "offline"})
    client = AsyncMqttClient(
        MqttConfig(
            host=host, port=port, client_id=ident.client_id, username=ident.username, password=ident.password
        ),
        will=Will(presence, offline),
    )
    await client.connect()
    try:
        await client.publish(presence, _payload(device, state="online"), retain=True)
        topic = message_topic(topic_root, ident.home_id, ident.device_id, device.kind)
        while True:
            await asyncio.sleep(rng.expovariate(1 / interval_s))
            await client.publish(topic, _payload(device, detected=True))
    finally:
        with contextlib.suppress(Exception):
            await client.publish(presence, _payload(device, state="offline"), retain=True)
        await client.disconnect()


def _payload(device: SimDevice, **fields: object) -> bytes:
    return orjson.dumps({"ts": datetime.now(UTC).isoformat(), "seq": device.next_seq(), **fields})


async def run_homes(
    homes: list[SimHome], *, host: str, port: int, topic_root: str, interval_s: float, seed: int = 1
) -> None:
    """Run every device of every home until cancelled."""
    rng = random.Random(seed)
    async with asyncio.TaskGroup() as group:
        for home in homes:
            for device in home.devices:
                group.create_task(
                    run_device(
                        device,
                        host=host,
                        port=port,
                        topic_root=topic_root,
                        interval_s=interval_s,
                        rng=random.Random(rng.random()),
                    ),
                    name=f"sim-{home.name}-{device.room}",
                )
