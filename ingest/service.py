"""The ingest worker: MQTT in, validated rows committed, then (and only then) acknowledged."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TypeVar
from uuid import UUID

import asyncpg

from devices.contract import PRIORITY_KINDS, ContractError, TopicAddress, parse_topic
from devices.health import HealthKeeper
from devices.hubs import is_batch_topic
from ingest import metrics
from ingest.checks import Checked, check_payload
from ingest.directory import DeviceDirectory, Route
from ingest.relay import Opened, Relayed, judge, open_batch, reading, refusal
from ingest.writer import BatchWriter, ReadingRow, Rejected
from kernel.mqtt import AsyncMqttClient, Inbox, Incoming, MqttConfig

log = logging.getLogger(__name__)
T = TypeVar("T")

SHARE_GROUP = "telecare-ingest"
PRIORITY_SHARE_GROUP = "telecare-ingest-priority"
# The topics' last segments a priority lane subscribes to (the contract puts the kind in the topic).
PRIORITY_TOPIC_KINDS = frozenset(kind.value for kind in PRIORITY_KINDS)
SESSION_EXPIRY_S = 7 * 24 * 3600
# Parsed topics are remembered (one per device and kind): parsing two UUIDs costs more than the rest.
TOPIC_CACHE_SIZE = 50_000
# The router hands the writers the event loop after at most this many messages: a backlog would
# otherwise keep it busy for tens of milliseconds and hold up the writers' database replies.
ROUTE_AT_MOST = 64
PRIORITY_BATCH = 50
# Beside a listening priority lane, the main worker writes its copy of a priority message this much
# later: by then the lane has stored it, so the copy finds the row instead of taking the row's lock
# first and making the lane's commit wait for this busier worker's.
LANE_GRACE_S = 1.0
# Batches of ordinary readings in flight at once. A batch spends most of its time waiting for round
# trips to the database while its messages hold part of the broker's window (receive maximum); with
# two writers one batch is built while the other commits.
BATCH_WRITERS = 2
_RETRY_S = (0.5, 1, 2, 5)


@dataclass(slots=True)
class Pending:
    """A received message and what it became, waiting for its commit and acknowledgement."""

    message: Incoming
    outcome: ReadingRow | Rejected | Relayed | None = None
    queued: float = 0.0  # time.monotonic() when the router handed it on


class Lane:
    """Messages waiting for one writer: added by the router, taken in batches by the writer.

    Not bounded here: every message in it is held in the MQTT inbox until acknowledged, and the inbox
    holds at most the broker's window (the receive maximum).
    """

    def __init__(self, *, size: int, wait_s: float) -> None:
        self.size = size
        self.wait_s = wait_s
        self.items: deque[Pending] = deque()
        self._waiting = asyncio.Event()
        self._full = asyncio.Event()

    def flush(self) -> None:
        """Let the writer take what is waiting now, without waiting for a fuller batch."""
        if self.items:
            self._full.set()

    def add(self, item: Pending) -> None:
        """Queue one message for the writer."""
        items = self.items
        items.append(item)
        if len(items) == 1:
            self._waiting.set()
        if len(items) >= self.size:
            self._full.set()

    async def take(self) -> list[Pending]:
        """The next batch: `size` messages, or fewer once the oldest has waited `wait_s` or on flush()."""
        items = self.items
        while not items:
            self._waiting.clear()
            await self._waiting.wait()
        remaining = items[0].queued + self.wait_s - time.monotonic()
        if len(items) < self.size and remaining > 0:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(remaining):
                    await self._full.wait()
        batch = [items.popleft() for _ in range(min(len(items), self.size))]
        if len(items) < self.size:
            self._full.clear()
        return batch


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
    """Consumes its subscription and stores readings exactly once.

    The main worker takes every device topic. A priority lane (priority_only) is a second worker on a
    session of its own, subscribed to the priority kinds only, so the broker never queues an alarm
    behind the readings in flight to the main worker (see ingest.priority). The main worker stores the
    priority readings it receives as well, as a fallback while the lane is down; the database keeps one.
    """

    pool: asyncpg.Pool
    mqtt: MqttConfig
    topic_root: str
    batch_size: int = 500
    batch_ms: int = 100
    shared: bool = False
    priority_only: bool = False
    # On the main worker beside a priority lane: True once that lane listens (then it has its own copy
    # of every priority-kind message, and writes their dead letters; the main worker skips them).
    priority_lane_ready: Callable[[], bool] | None = None
    # A replay's virtual clock (kernel/vclock.py) stamps arrivals instead of the wall clock, and one
    # writer keeps a replay's readings in publish order (two split devices between them).
    clock: Callable[[], datetime] | None = None
    writers: int = BATCH_WRITERS
    stored: int = 0
    duplicates: int = 0
    dead_lettered: int = 0

    def __post_init__(self) -> None:
        self.directory = DeviceDirectory(self.pool)
        self.health = HealthKeeper(interval_of=self.directory.heartbeat_s)
        self.client: AsyncMqttClient | None = None
        self._addresses: dict[str, TopicAddress] = {}
        self.subscribed = asyncio.Event()

    @property
    def subscriptions(self) -> list[str]:
        """This worker's topic filters (see `subscriptions`)."""
        return subscriptions(self.topic_root, shared=self.shared, priority_only=self.priority_only)

    async def run(self) -> None:
        """Connect and process until cancelled; disconnects cleanly on the way out."""
        self.client = AsyncMqttClient(self.mqtt, manual_ack=True)
        await until_database_answers("loading the device registry", self.directory.reload)
        await self.client.connect()
        for topic in self.subscriptions:
            await self.client.subscribe(topic, qos=1)
        self.subscribed.set()
        # The main worker's line is what tests and the benchmark wait for; the lane's says "listening".
        what = "ingest priority lane listening on" if self.priority_only else "ingest worker subscribed to"
        log.info("%s %s", what, ", ".join(self.subscriptions))
        try:
            await self._loop(self.client)
        finally:
            await self.client.disconnect()

    async def _loop(self, client: AsyncMqttClient) -> None:
        assert client.inbox is not None
        # Alarms, falls, smoke and water leaks have their own lane and writer: they never wait behind a
        # batch of ordinary readings. Ordinary readings are split between BATCH_WRITERS lanes by device,
        # so each device's readings are still written in the order they came.
        priority = Lane(size=PRIORITY_BATCH, wait_s=0)
        lanes = [Lane(size=self.batch_size, wait_s=self.batch_ms / 1000) for _ in range(self.writers)]
        if self.priority_only:
            lanes = [priority]  # nothing else comes, and its dead letters are written at once too
        later = Lane(size=PRIORITY_BATCH, wait_s=LANE_GRACE_S) if self.priority_lane_ready else None
        async with asyncio.TaskGroup() as group:
            group.create_task(self._route(client.inbox, priority, lanes, later), name="ingest-route")
            group.create_task(self._write(client, priority, path="priority"), name="ingest-priority")
            if later is not None:
                group.create_task(self._write(client, later, path="fallback"), name="ingest-fallback")
            for n, lane in enumerate(lanes if not self.priority_only else []):
                group.create_task(self._write(client, lane, path="batch"), name=f"ingest-batch-{n}")

    async def _route(self, inbox: Inbox, priority: Lane, lanes: list[Lane], later: Lane | None) -> None:
        while True:
            messages = await inbox.take(ROUTE_AT_MOST)
            metrics.RECEIVED.inc(len(messages))
            now = time.monotonic()
            parsed = [self._parse(message) for message in messages]
            await self._fetch_routes(parsed)
            route_of = self.directory.fresh()
            for message, checked in zip(messages, parsed, strict=True):
                if isinstance(checked, Rejected):
                    lanes[0].add(Pending(message, self._dead_letter(message, checked), now))
                    continue
                if isinstance(checked, Opened):
                    self._relay(Pending(message, judge(message, checked, route_of), now), priority, lanes)
                    continue
                address, payload = checked
                if self.clock is not None:
                    message = replace(message, received_at=self.clock())
                outcome = _decide(message, address, payload, route_of(address.device_id))
                if isinstance(outcome, Rejected):
                    # Dead letters stay in order.
                    lanes[0].add(Pending(message, self._dead_letter(message, outcome), now))
                elif outcome.kind in PRIORITY_KINDS:
                    self._priority(priority, later).add(Pending(message, outcome, now))
                else:
                    # By home: a hub's batches and its devices' own messages then keep their order.
                    lanes[address.home_id.int % len(lanes)].add(Pending(message, outcome, now))
            if inbox.held * 2 >= inbox.maxsize:
                # Half the broker's window is held: waiting for fuller batches would soon wait for nothing
                # (and leave an alarm queued in the broker behind the rest), so commit what is here.
                for lane in lanes:
                    lane.flush()
            # take() does not yield while messages are waiting: let the writers have their replies.
            await asyncio.sleep(0)

    async def _fetch_routes(self, parsed: list[tuple[TopicAddress, Checked] | Opened | Rejected]) -> None:
        """Ask the registry, in one query, for every device of these messages not fresh in memory.

        Many quiet devices each send rarely, so most of their messages find their cache entry expired:
        asking for them one at a time, with the router waiting for each answer, was what held a worker
        with 100,000 devices to a few thousand messages a second (docs/scaling.md).
        """
        cached = self.directory.fresh()
        wanted: set[UUID] = set()
        for checked in parsed:
            if isinstance(checked, Opened):
                wanted.update(d for d in checked.device_ids() if cached(d) is None)
            elif not isinstance(checked, Rejected) and cached(checked[0].device_id) is None:
                wanted.add(checked[0].device_id)
        if wanted:
            lookup = functools.partial(self.directory.lookup_many, list(wanted))
            await until_database_answers("looking up devices", lookup)

    def _relay(self, pending: Pending, priority: Lane, lanes: list[Lane]) -> None:
        """A hub's batch: in the priority writer when it carries an alarm, else its home's lane."""
        outcome = pending.outcome
        if isinstance(outcome, Rejected):
            lanes[0].add(pending)
        elif isinstance(outcome, Relayed) and outcome.priority and not self.priority_only:
            # The priority lane never sees a batch (it subscribes to the priority kinds' topics), so
            # the main worker stores it at once, whether or not the lane listens.
            priority.add(pending)
        else:
            home = outcome.readings[0].home_id.int if isinstance(outcome, Relayed) and outcome.readings else 0
            lanes[home % len(lanes)].add(pending)

    def _priority(self, priority: Lane, later: Lane | None) -> Lane:
        """The main worker's priority writer, or while a priority lane listens the one that waits first."""
        ready = self.priority_lane_ready
        return later if later is not None and ready is not None and ready() else priority

    def _dead_letter(self, message: Incoming, rejected: Rejected) -> Rejected | None:
        """The dead letter to write, or None (only acknowledged) when the priority lane writes it."""
        ready = self.priority_lane_ready
        if ready is not None and message.topic.rpartition("/")[2] in PRIORITY_TOPIC_KINDS and ready():
            return None
        return rejected

    def _parse(self, message: Incoming) -> tuple[TopicAddress, Checked] | Opened | Rejected:
        """A device message checked, a hub's batch opened, or why the message is refused."""
        if is_batch_topic(message.topic):
            return open_batch(message, root=self.topic_root)
        return self._check(message)

    def _check(self, message: Incoming) -> tuple[TopicAddress, Checked] | Rejected:
        try:
            address = self._addresses.get(message.topic)
            if address is None:
                address = parse_topic(message.topic, root=self.topic_root)
                if len(self._addresses) >= TOPIC_CACHE_SIZE:
                    self._addresses.clear()
                self._addresses[message.topic] = address
            return address, check_payload(address.kind, message.payload)
        except ContractError as exc:
            return Rejected(exc.reason, str(exc))

    async def _write(self, client: AsyncMqttClient, lane: Lane, *, path: str) -> None:
        writer = BatchWriter(self.pool, self.health)
        try:
            while True:
                await self._write_one(client, writer, await lane.take(), path=path)
        finally:
            await writer.close()

    async def _write_one(
        self, client: AsyncMqttClient, writer: BatchWriter, items: list[Pending], *, path: str
    ) -> None:
        started = time.perf_counter()
        commit = functools.partial(self._commit_or_split, writer, items)
        stored = await until_database_answers("storing readings", commit)
        metrics.COMMIT_SECONDS.observe(time.perf_counter() - started)
        metrics.BATCH_SIZE.observe(len(items))
        metrics.STORED.labels(path).inc(len(stored))
        # Acknowledge only now: the rows are committed, so the broker may forget these messages.
        client.ack_all([item.message for item in items])
        committed = time.time()
        for row in stored:
            metrics.LAG_SECONDS.observe(max(committed - row.time.timestamp(), 0.0))

    async def _commit_or_split(self, writer: BatchWriter, items: list[Pending]) -> list[ReadingRow]:
        try:
            return await self._commit(writer, items)
        except asyncpg.DataError as exc:
            # One bad row must not block the rest: store them one by one, dead-lettering the bad ones.
            log.warning("batch refused by the database (%s); storing one by one", exc)
        stored: list[ReadingRow] = []
        for item in items:
            # A hub's batch, one reading at a time: the item the database refuses is the one dead-lettered.
            parts = _parts(item)
            for part in parts:
                try:
                    stored += await self._commit(writer, [part])
                except asyncpg.DataError as exc:
                    source = part.outcome.source if isinstance(part.outcome, ReadingRow) else None
                    raw = source.payload if source is not None and len(parts) > 1 else None
                    part.outcome = Rejected("storage_error", str(exc), raw)
                    stored += await self._commit(writer, [part])
        return stored

    async def _commit(self, writer: BatchWriter, items: list[Pending]) -> list[ReadingRow]:
        readings: list[ReadingRow] = []
        rejected: list[tuple[Incoming, Rejected]] = []
        for i in items:
            outcome = i.outcome
            if type(outcome) is ReadingRow:
                readings.append(outcome)
            elif isinstance(outcome, Rejected):
                rejected.append((i.message, outcome))
            elif isinstance(outcome, Relayed):
                readings += outcome.readings
                rejected += [(i.message, r) for r in outcome.rejected]
        fresh = await writer.store(readings, rejected)
        for _, r in rejected:
            metrics.DEAD_LETTERS.labels(r.reason).inc()
        metrics.DUPLICATES.inc(len(readings) - len(fresh))
        self.stored += len(fresh)
        self.duplicates += len(readings) - len(fresh)
        self.dead_lettered += len(rejected)
        return fresh


def subscriptions(topic_root: str, *, shared: bool, priority_only: bool) -> list[str]:
    """Every device topic (or the priority kinds'), shared between workers or this worker's alone."""
    kinds = sorted(PRIORITY_TOPIC_KINDS) if priority_only else ["+"]
    group = PRIORITY_SHARE_GROUP if priority_only else SHARE_GROUP
    topics = [f"{topic_root}/v1/+/+/{kind}" for kind in kinds]
    return [f"$share/{group}/{t}" for t in topics] if shared else topics


def _decide(
    message: Incoming, address: TopicAddress, checked: Checked, route: Route | None
) -> ReadingRow | Rejected:
    """The reading a valid message becomes, or why it is refused (unknown, moved or inactive device)."""
    refused = refusal(address.device_id, address.home_id, route)
    if refused is not None:
        return refused
    return reading(message, address.home_id, address.device_id, address.kind.value, checked, message)


def _parts(item: Pending) -> list[Pending]:
    """A pending message as parts that can be committed alone: a batch's readings and refusals, or itself."""
    outcome = item.outcome
    if not isinstance(outcome, Relayed):
        return [item]
    parts: list[ReadingRow | Rejected] = [*outcome.readings, *outcome.rejected]
    return [Pending(item.message, part, item.queued) for part in parts]
