"""The ingest worker: MQTT in, validated rows committed, then (and only then) acknowledged."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID

import asyncpg
import orjson

from devices import health
from devices.schemas import (
    PRIORITY_KINDS,
    ContractError,
    DeviceMessage,
    TopicAddress,
    parse_payload,
    parse_topic,
    reading_value,
)
from ingest import handoff, metrics, queries
from ingest.directory import DeviceDirectory, Route
from telecare.mqtt import AsyncMqttClient, Incoming, MqttConfig

log = logging.getLogger(__name__)
T = TypeVar("T")

SHARE_GROUP = "telecare-ingest"
FUTURE_TOLERANCE = timedelta(minutes=5)
SESSION_EXPIRY_S = 7 * 24 * 3600
# Parsed topics are remembered (one per device and kind): parsing two UUIDs costs more than the rest.
TOPIC_CACHE_SIZE = 50_000
ROUTE_YIELD_EVERY = 32
_RETRY_S = (0.5, 1, 2, 5)


@dataclass(frozen=True, slots=True)
class Reading:
    """A validated reading ready to store."""

    time: datetime
    received_at: datetime
    home_id: UUID
    device_id: UUID
    seq: int
    kind: str
    value: float | None
    payload: dict[str, Any]
    clock_suspect: bool

    def observation(self) -> health.Observation:
        """What the device-health fold needs from this reading."""
        return health.Observation(
            self.device_id, self.home_id, self.received_at, self.time, self.kind, self.payload
        )

    def row(self) -> tuple[object, ...]:
        """The row in queries.READING_COLUMNS order."""
        return (
            self.time,
            self.received_at,
            self.home_id,
            self.device_id,
            self.seq,
            self.kind,
            self.value,
            self.payload,
            self.clock_suspect,
        )


@dataclass(frozen=True, slots=True)
class Rejected:
    """A message that goes to the dead-letter table."""

    reason: str
    detail: str


@dataclass(slots=True)
class Pending:
    """A received message and what it became, waiting for its commit and acknowledgement."""

    message: Incoming
    outcome: Reading | Rejected | None = None


CommittedHook = Callable[[Sequence[Reading]], Awaitable[None]]
DATABASE_DOWN_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.OperatorInterventionError,
    # A connection cut off mid-operation can be left unusable; it is terminated and the call retried.
    asyncpg.exceptions.InternalClientError,
)


async def until_database_answers(what: str, attempt: Callable[[], Awaitable[T]]) -> T:
    """Run `attempt` until the database answers; while it is down, wait and say so (nothing is acked)."""
    tries = 0
    while True:
        try:
            result = await attempt()
        except DATABASE_DOWN_ERRORS as exc:
            delay = _RETRY_S[min(tries, len(_RETRY_S) - 1)]
            if tries % 10 == 0:
                log.warning("database unavailable while %s (%s); holding messages, retrying", what, exc)
            metrics.DATABASE_DOWN.set(1)
            tries += 1
            await asyncio.sleep(delay)
            continue
        if tries:
            log.info("database is back after %d retries; resuming %s", tries, what)
            metrics.DATABASE_DOWN.set(0)
        return result


@dataclass
class IngestWorker:
    """Consumes the shared subscription and stores readings exactly once."""

    pool: asyncpg.Pool
    mqtt: MqttConfig
    topic_root: str
    batch_size: int = 500
    batch_ms: int = 100
    shared: bool = False
    on_committed: list[CommittedHook] = field(default_factory=list)
    stored: int = 0
    duplicates: int = 0
    dead_lettered: int = 0

    def __post_init__(self) -> None:
        self.directory = DeviceDirectory(self.pool)
        self.client: AsyncMqttClient | None = None
        self._addresses: dict[str, TopicAddress] = {}
        self.subscribed = asyncio.Event()

    @property
    def subscription(self) -> str:
        """Every device topic: shared between workers, or this worker's alone (survives broker restarts)."""
        topics = f"{self.topic_root}/v1/+/+/+"
        return f"$share/{SHARE_GROUP}/{topics}" if self.shared else topics

    async def run(self) -> None:
        """Connect and process until cancelled; disconnects cleanly on the way out."""
        self.client = AsyncMqttClient(self.mqtt, manual_ack=True)
        await until_database_answers("loading the device registry", self.directory.reload)
        await self.client.connect()
        await self.client.subscribe(self.subscription, qos=1)
        self.subscribed.set()
        log.info("ingest worker subscribed to %s", self.subscription)
        try:
            await self._loop(self.client)
        finally:
            await self.client.disconnect()

    async def _loop(self, client: AsyncMqttClient) -> None:
        # Both queues are bounded by the broker's window (receive maximum), as is the inbox.
        priority: asyncio.Queue[Pending] = asyncio.Queue(client.messages.maxsize)
        batch: asyncio.Queue[Pending] = asyncio.Queue(client.messages.maxsize)
        async with asyncio.TaskGroup() as group:
            group.create_task(self._route(client, priority, batch), name="ingest-route")
            group.create_task(
                self._write(priority, max_items=50, wait_ms=0, path="priority"), name="ingest-priority"
            )
            group.create_task(
                self._write(batch, max_items=self.batch_size, wait_ms=self.batch_ms, path="batch"),
                name="ingest-batch",
            )

    async def _route(
        self, client: AsyncMqttClient, priority: asyncio.Queue[Pending], batch: asyncio.Queue[Pending]
    ) -> None:
        routed = 0
        while True:
            message = await client.messages.get()
            metrics.RECEIVED.inc()
            checked = self._check(message)
            if isinstance(checked, Rejected):
                outcome: Reading | Rejected = checked
            else:
                address, parsed = checked
                # Known devices are answered from memory without a coroutine; the rest ask the registry.
                route = self.directory.cached(address.device_id)
                if route is None:
                    lookup = functools.partial(self.directory.lookup, address.device_id)
                    route = await until_database_answers("looking up a device", lookup)
                outcome = self._decide(message, address, parsed, route)
            urgent = isinstance(outcome, Reading) and outcome.kind in PRIORITY_KINDS
            await (priority if urgent else batch).put(Pending(message, outcome))
            routed += 1
            if routed % ROUTE_YIELD_EVERY == 0:
                # get() and put() do not yield while there are messages and room: with a backlog this
                # loop would run for tens of milliseconds and hold up the writers' database replies.
                await asyncio.sleep(0)

    def _check(self, message: Incoming) -> tuple[TopicAddress, DeviceMessage] | Rejected:
        try:
            address = self._addresses.get(message.topic)
            if address is None:
                address = parse_topic(message.topic, root=self.topic_root)
                if len(self._addresses) >= TOPIC_CACHE_SIZE:
                    self._addresses.clear()
                self._addresses[message.topic] = address
            return address, parse_payload(address.kind, message.payload)
        except ContractError as exc:
            return Rejected(exc.reason, str(exc))

    def _decide(
        self, message: Incoming, address: TopicAddress, parsed: DeviceMessage, route: Route | None
    ) -> Reading | Rejected:
        if route is None:
            return Rejected("unknown_device", f"device {address.device_id} is not registered")
        home_id, status = route
        if home_id != address.home_id:
            return Rejected("home_mismatch", f"device {address.device_id} belongs to another home")
        if status != "active":
            return Rejected("device_inactive", f"device {address.device_id} is {status}")
        return Reading(
            time=parsed.ts,
            received_at=message.received_at,
            home_id=home_id,
            device_id=address.device_id,
            seq=parsed.seq,
            kind=address.kind.value,
            value=reading_value(parsed),
            payload=orjson.loads(message.payload),
            clock_suspect=parsed.ts > message.received_at + FUTURE_TOLERANCE,
        )

    async def _write(self, queue: asyncio.Queue[Pending], *, max_items: int, wait_ms: int, path: str) -> None:
        while True:
            items = await _take_batch(queue, max_items=max_items, wait_s=wait_ms / 1000)
            started = time.perf_counter()
            commit = functools.partial(self._commit_or_split, items)
            stored = await until_database_answers("storing readings", commit)
            metrics.COMMIT_SECONDS.observe(time.perf_counter() - started)
            metrics.BATCH_SIZE.observe(len(items))
            metrics.STORED.labels(path).inc(len(stored))
            # Acknowledge only now: the rows are committed, so the broker may forget these messages.
            for item in items:
                item.message.ack()
            committed = datetime.now(UTC)
            for reading in stored:
                metrics.LAG_SECONDS.observe(max((committed - reading.time).total_seconds(), 0.0))
            await self._hand_on(stored)

    async def _hand_on(self, stored: list[Reading]) -> None:
        for hook in self.on_committed:
            try:
                await hook(stored)
            except Exception:
                log.exception("a committed-readings consumer failed; ingest carries on")

    async def _commit_or_split(self, items: list[Pending]) -> list[Reading]:
        try:
            return await self._commit(items)
        except asyncpg.DataError as exc:
            # One bad row must not block the rest: store them one by one, dead-lettering the bad ones.
            log.warning("batch refused by the database (%s); storing one by one", exc)
        stored: list[Reading] = []
        for item in items:
            try:
                stored += await self._commit([item])
            except asyncpg.DataError as exc:
                item.outcome = Rejected("storage_error", str(exc))
                stored += await self._commit([item])
        return stored

    async def _commit(self, items: list[Pending]) -> list[Reading]:
        readings = [i.outcome for i in items if isinstance(i.outcome, Reading)]
        rejected = [(i.message, i.outcome) for i in items if isinstance(i.outcome, Rejected)]
        async with self.pool.acquire() as conn:
            try:
                async with conn.transaction():
                    fresh = await _write(conn, readings, rejected)
            except asyncpg.DataError:
                raise
            except BaseException:
                # Never hand a connection that failed mid-operation back to the pool.
                conn.terminate()
                raise
        for _, r in rejected:
            metrics.DEAD_LETTERS.labels(r.reason).inc()
        metrics.DUPLICATES.inc(len(readings) - len(fresh))
        self.stored += len(fresh)
        self.duplicates += len(readings) - len(fresh)
        self.dead_lettered += len(rejected)
        return fresh


async def _write(
    conn: asyncpg.Connection, readings: list[Reading], rejected: list[tuple[Incoming, Rejected]]
) -> list[Reading]:
    """Write one batch in the caller's transaction; returns the readings that were new."""
    rows = [r.row() for r in readings]
    new = set(await queries.insert_readings(conn, rows=rows)) if rows else set()
    fresh = [r for r in readings if (r.device_id, r.seq) in new]
    await health.apply_batch(conn, [r.observation() for r in fresh])
    await handoff.record_batch(conn, keys=[(r.device_id, r.seq, r.time) for r in fresh])
    if rejected:
        await queries.insert_dead_letters(
            conn, rows=[(m.received_at, m.topic, m.payload, r.reason, r.detail) for m, r in rejected]
        )
    return fresh


async def _take_batch(queue: asyncio.Queue[Pending], *, max_items: int, wait_s: float) -> list[Pending]:
    """Wait for one item, then gather more for up to wait_s or until max_items."""
    items = [await queue.get()]
    if wait_s > 0:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(wait_s):
                while len(items) < max_items:
                    items.append(await queue.get())
    while len(items) < max_items and not queue.empty():
        items.append(queue.get_nowait())
    return items
