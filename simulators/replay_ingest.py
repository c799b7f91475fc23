"""A replayed log through the real path: each sensor publishing with its own credentials to Mosquitto
(MQTT v5, QoS 1), the ingest worker committing to PostgreSQL, the detector service reading what was
committed and writing its alerts, all on one virtual clock (kernel/vclock.py).

The clock moves a tick at a time, and only once every reading published up to it has been committed:
the detector sees a silence exactly when it would have live, however fast the log is played. Ingest
stamps arrivals and the heartbeat check judges silence on the same clock. The log is moved by whole
weeks to end before now (simulators.replay.shift_rows): storage retention then keeps it, and each day
has its partition before the first reading for it arrives.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import asyncpg

from anomaly.config import DetectorConfig
from anomaly.service import DetectorService, RuntimeOptions
from anomaly.virtual import TICK_S, Recorder, Replayed
from devices.contract import MessageKind, message_topic
from devices.dynsec import connect_admin
from devices.health import mark_silent_offline
from homes import queries as home_queries
from ingest import upkeep
from ingest.service import IngestWorker
from kernel.connect import mqtt_config, require_database_url
from kernel.db import create_pool
from kernel.migrate import migrate
from kernel.mqtt import AsyncMqttClient, MqttConfig, MqttError
from kernel.settings import Settings, StorageMode
from kernel.vclock import VirtualClock
from simulators.model import HomeStream, SimEvent
from simulators.publisher import SimulatedHome
from simulators.replay import Mapping, Row, replay_home_name, shift_rows
from simulators.service import provision

log = logging.getLogger(__name__)

REPLAY_ORGANISATION = "Replayed homes"
COMMIT_WAIT_S = 120.0  # the longest a tick waits for its readings to be committed before giving up


class ReplayStalled(RuntimeError):
    """Readings published were not committed in time: the replay stops rather than judge without them."""


@dataclass(slots=True)
class ThroughIngest:
    """A replay through the real path: the detector's decisions and what the database holds after it."""

    run: Replayed
    home_id: uuid.UUID
    home_name: str
    rows: list[Row]  # the log as replayed (moved to recent weeks)
    device_keys: dict[uuid.UUID, str]
    published: int = 0
    stored: int = 0
    dead_lettered: int = 0
    alerts_in_db: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0


def events_of(rows: list[Row]) -> list[SimEvent]:
    """The rows as device messages, each device's seq counting from 1."""
    seqs: Counter[str] = Counter()
    out = []
    for row in rows:
        key = row.sensor.key
        seqs[key] += 1
        out.append(SimEvent(row.at, key, MessageKind(row.sensor.kind), row.fields, seq=seqs[key]))
    return out


class _Links:
    """One MQTT connection per device, with the device's own credentials, opened when first needed."""

    def __init__(self, home: SimulatedHome, host: str, port: int, topic_root: str) -> None:
        self.home, self.host, self.port, self.topic_root = home, host, port, topic_root
        self.clients: dict[str, AsyncMqttClient] = {}

    async def publish(self, event: SimEvent) -> None:
        """Publish one message at QoS 1 and wait for the broker's PUBACK."""
        ident = self.home.identities[event.device_key]
        client = self.clients.get(event.device_key)
        if client is None:
            config = MqttConfig(
                host=self.host,
                port=self.port,
                client_id=ident.client_id,
                username=ident.username,
                password=ident.password,
            )
            client = self.clients[event.device_key] = AsyncMqttClient(config)
            await client.connect()
        topic = message_topic(self.topic_root, self.home.home_id, ident.device_id, event.kind)
        await client.publish(topic, event.payload_bytes(self.home.seq_base), qos=1)

    async def close(self) -> None:
        """Disconnect every device."""
        for client in self.clients.values():
            with contextlib.suppress(MqttError, OSError):
                await client.disconnect()


async def _prepare_storage(conn: asyncpg.Connection, settings: Settings, rows: list[Row]) -> None:
    """Migrate, run the storage upkeep as ingest does at start, and give every replayed day its partition
    (TimescaleDB makes its chunks itself)."""
    report = await migrate(conn, storage=settings.storage)
    if report.storage.mode is not StorageMode.POSTGRES:
        return
    await upkeep.run_once(
        conn, retention_days=settings.retention_days, ahead_days=settings.partitions_ahead_days
    )
    if rows:
        have = await upkeep.existing_partitions(conn)
        day, last = rows[0].at.date(), rows[-1].at.date()
        while day <= last:
            if upkeep.partition_name(day) not in have:
                await upkeep.create_day_partition(conn, day)
            day += timedelta(days=1)


async def _provision(
    pool: asyncpg.Pool, settings: Settings, mapping: Mapping, stream: HomeStream
) -> SimulatedHome:
    async with pool.acquire() as conn:
        org = await conn.fetchval("SELECT id FROM organisations WHERE name = $1", REPLAY_ORGANISATION)
        if org is None:
            org = await home_queries.insert_organisation(conn, name=REPLAY_ORGANISATION)
    admin_id = f"replay-admin-{uuid.uuid4().hex[:8]}"
    async with connect_admin(mqtt_config(settings, client_id=admin_id)) as admin:
        return await provision(
            pool,
            admin,
            org,
            stream,
            mapping.specs,
            settings.mqtt_topic_root,
            mapping.by_key(),
        )


@dataclass(slots=True)
class _Loop:
    """The running parts of one replay and the virtual clock that paces them."""

    pool: asyncpg.Pool
    clock: VirtualClock
    worker: IngestWorker
    ingest: asyncio.Task[None]
    service: DetectorService
    links: _Links
    # Whether any device declares heartbeats: the heartbeat check skips event-only devices, so without
    # one it can find nothing and is not run (a third of a quiet tick's round trips).
    beating: bool = True
    published: int = 0

    async def publish(self, events: list[SimEvent]) -> None:
        """Publish in order (each PUBACK awaited, so the broker hands them on in that order), then wait
        until ingest has committed every one."""
        for event in events:
            await self.links.publish(event)
        self.published += len(events)
        worker = self.worker
        try:
            async with asyncio.timeout(COMMIT_WAIT_S):
                while worker.stored + worker.duplicates + worker.dead_lettered < self.published:
                    if self.ingest.done():  # the worker failed: say why instead of waiting
                        self.ingest.result()
                        raise ReplayStalled("the ingest worker stopped")
                    await asyncio.sleep(0.001)
        except TimeoutError as exc:
            done = worker.stored + worker.duplicates + worker.dead_lettered
            raise ReplayStalled(
                f"{self.published - done} readings not committed in {COMMIT_WAIT_S:.0f} s"
            ) from exc

    async def tick(self, moment: float) -> None:
        """The clock reaches `moment`: the heartbeat check, then the detector reads what was committed,
        feeds it and ticks."""
        self.clock.advance_to(moment)
        if self.beating:
            async with self.pool.acquire() as conn, conn.transaction():
                await mark_silent_offline(conn, now=self.clock.utc())
        await self.service.step()
        while self.service.readings < self.worker.stored:  # a batch beyond the first read's limit
            await self.service.step()

    async def play(self, events: list[SimEvent], tick_s: float) -> float:
        """Every event published before the tick that follows it, as anomaly.virtual feeds them."""
        start = events[0].at.timestamp()
        next_tick, i = start + tick_s, 0
        end = events[-1].at.timestamp() + tick_s
        while next_tick <= end:
            j = i
            while j < len(events) and events[j].at.timestamp() < next_tick:
                j += 1
            # The readings arrive (ingest stamps them) at the tick that follows them, as live they arrive
            # just after they happened; the clock moves on only once they are committed.
            self.clock.advance_to(next_tick)
            if j > i:
                await self.publish(events[i:j])
                i = j
            await self.tick(next_tick)
            next_tick += tick_s
        return next_tick


async def replay_through_ingest(
    settings: Settings,
    mapping: Mapping,
    rows: list[Row],
    cfg: DetectorConfig,
    *,
    stem: str = "replay",
    tick_s: float = TICK_S,
    now: datetime | None = None,
) -> ThroughIngest:
    """Replay parsed rows into a home of its own through broker, ingest, database and detector."""
    started = asyncio.get_running_loop().time()
    now = now or datetime.now(UTC)
    rows = shift_rows(rows, mapping.tz, now)
    pool = await create_pool(require_database_url(settings), min_size=2, max_size=6)
    try:
        async with pool.acquire() as conn:
            await _prepare_storage(conn, settings, rows)
        name = replay_home_name(mapping, stem, now)
        stream = HomeStream(name, "replay", "replay", [], [], [], mapping.tz, now.date(), 1)
        home = await _provision(pool, settings, mapping, stream)
        beating = any(not sensor.event_only for sensor in mapping.sensors.values())
        result = await _run(pool, settings, home, rows, cfg, tick_s, beating=beating)
        result.seconds = round(asyncio.get_running_loop().time() - started, 1)
        return result
    finally:
        await pool.close()


async def _run(
    pool: asyncpg.Pool,
    settings: Settings,
    home: SimulatedHome,
    rows: list[Row],
    cfg: DetectorConfig,
    tick_s: float,
    *,
    beating: bool,
) -> ThroughIngest:
    events = events_of(rows)
    keys = {ident.device_id: key for key, ident in home.identities.items()}
    run = Replayed(home.home_id)
    out = ThroughIngest(run, home.home_id, home.stream.home_name, rows, keys)
    if not events:
        return out
    clock = VirtualClock(events[0].at.timestamp())
    worker, service = _parts(pool, settings, home, cfg, clock, tick_s, Recorder(run))
    url = urlsplit(settings.mqtt_url or "")
    links = _Links(home, url.hostname or "127.0.0.1", url.port or 1883, settings.mqtt_topic_root)
    ingest = asyncio.create_task(worker.run(), name="replay-ingest")
    try:
        async with asyncio.timeout(60):
            await worker.subscribed.wait()
        await service.start()
        run.kit_notes = service.detector.kit_notes(home.home_id)
        run.start = events[0].at.timestamp()
        loop = _Loop(pool, clock, worker, ingest, service, links, beating)
        run.end = await loop.play(events, tick_s)
        run.readings = service.readings
    finally:
        await links.close()
        ingest.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await ingest
    await _count(pool, out, worker)
    return out


def _parts(
    pool: asyncpg.Pool,
    settings: Settings,
    home: SimulatedHome,
    cfg: DetectorConfig,
    clock: VirtualClock,
    tick_s: float,
    recorder: Recorder,
) -> tuple[IngestWorker, DetectorService]:
    """The ingest worker and the detector service of one replay, both on its clock."""
    worker = IngestWorker(
        pool=pool,
        mqtt=mqtt_config(settings, client_id=f"replay-ingest-{uuid.uuid4().hex[:8]}"),
        topic_root=settings.mqtt_topic_root,
        batch_ms=1,
        clock=clock.utc,
        writers=1,
    )
    options = RuntimeOptions(
        name=f"replay-{home.home_id}",
        tick_s=tick_s,
        checkpoint_s=3600.0,
        housekeeping_s=3600.0,
        max_batches=10_000,
        homes=frozenset({home.home_id}),
    )
    return worker, DetectorService(pool, cfg, options, clock=clock, on_commit=recorder.take)


async def _count(pool: asyncpg.Pool, out: ThroughIngest, worker: IngestWorker) -> None:
    """What the database holds for the replayed home once it is over."""
    async with pool.acquire() as conn:
        out.stored = int(await conn.fetchval("SELECT count(*) FROM readings WHERE home_id = $1", out.home_id))
        kinds = await conn.fetch(
            "SELECT kind, count(*) AS n FROM alerts WHERE home_id = $1 GROUP BY kind", out.home_id
        )
    out.alerts_in_db = Counter({r["kind"]: int(r["n"]) for r in kinds})
    out.published = worker.stored + worker.duplicates + worker.dead_lettered
    out.dead_lettered = worker.dead_lettered


def decisions_compared(
    fast: Replayed, slow: Replayed, *, names: dict[str, str], tick_s: float = TICK_S
) -> list[str]:
    """How two replays' alerts differ (empty when they decided the same): kind, condition, triggering
    event, how it ended; raised within one tick of each other (a reading is fed at its own time on the
    fast path, at the tick that follows it through ingest)."""

    def key(text: str) -> str:
        for ident, name in names.items():
            text = text.replace(ident, name)
        return text

    def sig(run: Replayed) -> list[tuple[Any, ...]]:
        return [
            (d.kind, key(d.key), round(d.triggered_at), d.resolution, d.raised_at, d.resolved_at)
            for d in run.decisions
        ]

    a, b = sig(fast), sig(slow)
    out = (
        [f"alert counts differ: {len(a)} on the fast path, {len(b)} through ingest"]
        if len(a) != len(b)
        else []
    )
    for x, y in zip(a, b, strict=False):
        if x[:4] != y[:4] or abs(x[4] - y[4]) > tick_s or _far(x[5], y[5], tick_s):
            out.append(f"fast {x[:4]} raised {x[4]:.0f} != through ingest {y[:4]} raised {y[4]:.0f}")
    return out


def _far(a: float | None, b: float | None, tick_s: float) -> bool:
    if a is None or b is None:
        return a is not b
    return abs(a - b) > tick_s
