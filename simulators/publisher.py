"""Publishing simulated homes through the real broker, each device with its own credentials.

A home is provisioned like a real installation (a device per layout entry, registered through
`devices.service`, so each gets its broker identity). Its stream is then published in time order:
in real time, accelerated by a factor (event times come from the virtual clock), or as fast as the
broker acknowledges. What the broker acknowledged is recorded, to check against what was stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from uuid import UUID

import asyncpg
import orjson

from devices import queries as device_queries
from devices import service as devices
from devices.contract import MessageKind, message_topic
from devices.dynsec import DynsecAdmin
from homes import queries as home_queries
from kernel.mqtt import AsyncMqttClient, MqttConfig, MqttError, Will
from simulators.layouts import DeviceSpec, get_layout
from simulators.model import HomeStream, SimEvent

log = logging.getLogger(__name__)
SIM_MODEL = "simulated:"


@dataclass
class SimulatedHome:
    """A provisioned home: its id, its stream and each device's identity by layout key."""

    home_id: UUID
    stream: HomeStream
    identities: dict[str, devices.Provisioned]
    seq_base: int = 0


@dataclass
class Sent:
    """What one publish run got acknowledged by the broker."""

    acked: list[tuple[UUID, int, str, datetime]] = field(default_factory=list)
    per_kind: Counter[str] = field(default_factory=Counter)
    duplicates: int = 0


async def provision_home(
    pool: asyncpg.Pool,
    admin: DynsecAdmin,
    *,
    topic_root: str,
    organisation_id: UUID,
    stream: HomeStream,
    tz: str = "Europe/London",
    specs: list[DeviceSpec] | None = None,
) -> SimulatedHome:
    """Find (by name) or create the home and its devices (the layout's kit unless `specs` are given).

    Every device gets a fresh password, so a home can be published again by a later run.
    """
    async with pool.acquire() as conn:
        home_id = await conn.fetchval(
            "SELECT id FROM homes WHERE organisation_id = $1 AND name = $2", organisation_id, stream.home_name
        )
        if home_id is None:
            home_id = await home_queries.insert_home(
                conn, organisation_id=organisation_id, name=stream.home_name, timezone=tz
            )
        existing = {
            r["model"].removeprefix(SIM_MODEL): r["id"]
            for r in await device_queries.list_devices(conn, home_id=home_id)
            if r["status"] == "active" and r["model"].startswith(SIM_MODEL)
        }
    identities = {}
    for spec in specs if specs is not None else get_layout(stream.layout).devices:
        if spec.key in existing:
            ident = await devices.rotate_password(
                pool, admin, topic_root=topic_root, device_id=existing[spec.key]
            )
        else:
            ident = await devices.register_device(
                pool,
                admin,
                topic_root=topic_root,
                home_id=home_id,
                device_type=spec.type,
                room=spec.room,
                model=SIM_MODEL + spec.key,
            )
        identities[spec.key] = ident
    # Sequence numbers must keep rising across runs of the same home, so each run starts from the clock.
    return SimulatedHome(home_id, stream, identities, seq_base=time.time_ns() // 1_000)


class Pacer:
    """Maps virtual (event) time to wall-clock time: real time, `speed` times faster, or no waiting."""

    def __init__(self, virtual_start: datetime, speed: float | None) -> None:
        self.virtual_start = virtual_start
        self.speed = speed
        self.real_start = time.monotonic()

    async def wait_until(self, moment: datetime) -> None:
        """Sleep until the virtual moment is due."""
        if not self.speed:
            return
        due = self.real_start + (moment - self.virtual_start).total_seconds() / self.speed
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)


def _is_will(event: SimEvent) -> bool:
    return event.kind is MessageKind.PRESENCE and event.fields.get("state") == "offline"


@dataclass
class _Device:
    """One device's live connection, the wills it will leave behind, and its publishes in flight."""

    home: SimulatedHome
    key: str
    wills: deque[SimEvent]
    client: AsyncMqttClient | None = None
    in_flight: set[asyncio.Task[None]] = field(default_factory=set)


async def publish_homes(
    homes: list[SimulatedHome],
    *,
    host: str,
    port: int,
    topic_root: str,
    speed: float | None,
    since: datetime | None = None,
    until: datetime | None = None,
    window: int = 200,
) -> Sent:
    """Publish every home's events in publish-time order; events before `since` are skipped.

    A device's presence-offline events are its last wills: it connects with the next one registered,
    and at that moment drops the connection so that the broker publishes it, as after a real fault.
    """
    sent = Sent()
    events = sorted(
        (
            (e.publish_at, h.home_id, e, h)
            for h in homes
            for e in h.stream.events
            if (since is None or e.publish_at >= since) and (until is None or e.publish_at < until)
        ),
        key=lambda item: (item[0], str(item[1]), item[2].device_key, item[2].seq),
    )
    if not events:
        return sent
    devices: dict[tuple[UUID, str], _Device] = {}
    for _, home_id, event, home in events:
        device = devices.setdefault((home_id, event.device_key), _Device(home, event.device_key, deque()))
        if _is_will(event):
            device.wills.append(event)
    pacer = Pacer(events[0][0], speed)
    slots = asyncio.Semaphore(window)
    try:
        for publish_at, home_id, event, _ in events:
            await pacer.wait_until(publish_at)
            device = devices[(home_id, event.device_key)]
            if _is_will(event):
                await _drop_with_will(device, sent, host=host, port=port, topic_root=topic_root)
                continue
            client = await _connected(device, host=host, port=port, topic_root=topic_root)
            await slots.acquire()
            task = asyncio.create_task(_send(client, device.home, event, topic_root, sent, slots))
            device.in_flight.add(task)
            task.add_done_callback(device.in_flight.discard)
        await asyncio.gather(*(t for d in devices.values() for t in d.in_flight))
    finally:
        for device in devices.values():
            for task in device.in_flight:
                task.cancel()
            if device.client is not None:
                with contextlib.suppress(MqttError, OSError):
                    await device.client.disconnect()
    return sent


async def _drop_with_will(device: _Device, sent: Sent, *, host: str, port: int, topic_root: str) -> None:
    will = device.wills.popleft()
    # The will must be the one registered on the live connection: connect now if need be.
    if device.client is None:
        device.wills.appendleft(will)
        await _connected(device, host=host, port=port, topic_root=topic_root)
        device.wills.popleft()
    assert device.client is not None
    await asyncio.gather(*device.in_flight)
    await device.client.disconnect(send_will=True)
    device.client = None
    ident = device.home.identities[device.key]
    sent.acked.append((ident.device_id, will.seq + device.home.seq_base, will.kind.value, will.at))
    sent.per_kind[will.kind.value] += 1


async def _connected(device: _Device, *, host: str, port: int, topic_root: str) -> AsyncMqttClient:
    if device.client is not None:
        return device.client
    home, ident = device.home, device.home.identities[device.key]
    presence = message_topic(topic_root, home.home_id, ident.device_id, MessageKind.PRESENCE)
    will = (
        device.wills[0].payload_bytes(home.seq_base)
        if device.wills
        else orjson.dumps({"ts": datetime.now(UTC).isoformat(), "seq": home.seq_base, "state": "offline"})
    )
    client = AsyncMqttClient(
        MqttConfig(
            host=host,
            port=port,
            client_id=ident.client_id,
            username=ident.username,
            password=ident.password,
            receive_maximum=100,
        ),
        will=Will(presence, will),
    )
    await client.connect()
    device.client = client
    return client


async def _send(
    client: AsyncMqttClient,
    home: SimulatedHome,
    event: SimEvent,
    topic_root: str,
    sent: Sent,
    slots: asyncio.Semaphore,
) -> None:
    ident = home.identities[event.device_key]
    topic = message_topic(topic_root, home.home_id, ident.device_id, event.kind)
    try:
        await client.publish(topic, event.payload_bytes(home.seq_base))
        sent.acked.append((ident.device_id, event.seq + home.seq_base, event.kind.value, event.at))
        sent.per_kind[event.kind.value] += 1
        sent.duplicates += event.duplicate
    finally:
        slots.release()
