"""Load mode: many devices at a fixed total rate, QoS 1, never losing the publisher's own messages; or
a fleet of homes behind their hubs (`publish_fleet`, the model in simulators/fleet.py; the reconnect
storm is simulators/storm.py).

One MQTT connection publishes for many devices (like a test rig or a home hub), so it needs an
identity allowed to publish under the whole topic root (`create_rig_identity`). Every message is
retried until the broker acknowledges it; what the broker acknowledged is recorded for checking.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from uuid import UUID

import orjson

from devices.contract import MessageKind, message_topic
from devices.dynsec import DynsecAdmin
from kernel.mqtt import AsyncMqttClient, MqttConfig, MqttError
from simulators.fleet import FleetClock

log = logging.getLogger(__name__)

RIG_USER = "telecare-load-rig"


async def create_rig_identity(admin: DynsecAdmin, *, topic_root: str, password: str) -> str:
    """A test-rig client allowed to publish under the whole topic root (never made in production)."""
    username = rig_username(topic_root)
    await admin.command(
        "createRole",
        rolename=username,
        acls=[{"acltype": "publishClientSend", "topic": f"{topic_root}/#", "allow": True}],
    )
    await admin.command("createClient", username=username, password=password, roles=[{"rolename": username}])
    return username


def rig_username(topic_root: str) -> str:
    """The rig's username for a topic root."""
    return f"{RIG_USER}-{topic_root.replace('/', '-')}"


@dataclass(frozen=True, slots=True)
class LoadDevice:
    """A registered device the load publishes for."""

    home_id: UUID
    device_id: UUID


@dataclass
class LoadResult:
    """What was sent, and when each message was handed to the broker."""

    acked: dict[tuple[UUID, int], float] = field(default_factory=dict)
    retries: int = 0
    started: float = 0.0
    finished: float = 0.0

    @property
    def rate(self) -> float:
        """Acknowledged messages per second."""
        return len(self.acked) / max(self.finished - self.started, 1e-9)


PayloadFactory = Callable[[LoadDevice, int], tuple[MessageKind, dict[str, object]]]


def motion_payload(_device: LoadDevice, _seq: int) -> tuple[MessageKind, dict[str, object]]:
    """The default load: motion detected."""
    return MessageKind.MOTION, {"detected": True}


async def publish_load(
    config: MqttConfig,
    devices: list[LoadDevice],
    *,
    topic_root: str,
    total: int,
    rate_per_s: float | None,
    payload: PayloadFactory = motion_payload,
    first_seq: int = 1,
    window: int = 500,
    ack_timeout_s: float = 30.0,
) -> LoadResult:
    """Publish `total` messages round-robin over the devices at `rate_per_s` (None: as fast as acked)."""
    client = AsyncMqttClient(config)
    await client.connect()
    result = LoadResult(started=time.monotonic())
    slots = asyncio.Semaphore(window)
    tasks: set[asyncio.Task[None]] = set()
    try:
        for n in range(total):
            if rate_per_s:
                delay = result.started + n / rate_per_s - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            device = devices[n % len(devices)]
            seq = first_seq + n // len(devices)
            kind, fields = payload(device, seq)
            body = orjson.dumps({"ts": datetime.now(UTC).isoformat(), "seq": seq, **fields})
            topic = message_topic(topic_root, device.home_id, device.device_id, kind)
            await slots.acquire()
            task = asyncio.create_task(
                _send(client, topic, body, (device.device_id, seq), result, slots, ack_timeout_s)
            )
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        await asyncio.gather(*tasks)
    finally:
        result.finished = time.monotonic()
        await client.disconnect()
    return result


async def _send(
    client: AsyncMqttClient,
    topic: str,
    body: bytes,
    key: tuple[UUID, int],
    result: LoadResult,
    slots: asyncio.Semaphore,
    ack_timeout_s: float,
) -> None:
    try:
        while True:
            try:
                await asyncio.wait_for(client.publish(topic, body, qos=1), ack_timeout_s)
                result.acked[key] = time.monotonic()
                return
            except (MqttError, TimeoutError):
                # The broker restarted or the link dropped: wait for paho to reconnect, then send again.
                result.retries += 1
                await asyncio.sleep(0.5)
    finally:
        slots.release()


@dataclass
class FleetLoadResult:
    """What the fleet load sent: messages and readings the broker acknowledged."""

    messages: int = 0
    readings: int = 0
    alarms: int = 0
    retries: int = 0
    seconds: float = 0.0


async def publish_fleet(
    config: MqttConfig, fleet: FleetClock, *, duration_s: float, tick_s: float = 0.1, window: int = 500
) -> FleetLoadResult:
    """Publish what the fleet's homes send for `duration_s` seconds of wall clock (simulators/fleet.py).

    One connection for every hub (a test rig's identity, `create_rig_identity`): the broker's ACL of
    each hub is tested apart; this is for load.
    """
    client = AsyncMqttClient(config)
    await client.connect()
    result = FleetLoadResult()
    slots = asyncio.Semaphore(window)
    tasks: set[asyncio.Task[None]] = set()
    started = time.time()
    scratch = LoadResult()
    try:
        t = started
        while t < started + duration_s:
            for message in fleet.step(t, t + tick_s):
                await slots.acquire()
                key = (UUID(int=result.messages), 0)
                task = asyncio.create_task(
                    _send(client, message.topic, message.payload, key, scratch, slots, 30.0)
                )
                tasks.add(task)
                task.add_done_callback(tasks.discard)
                result.messages += 1
                result.readings += message.readings
                result.alarms += message.alarm
            t += tick_s
            await asyncio.sleep(max(0.0, t - time.time()))
        await asyncio.gather(*tasks)
    finally:
        result.seconds = time.time() - started
        result.retries = scratch.retries
        await client.disconnect()
    return result
