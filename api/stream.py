"""The live stream of alert changes: one LISTEN connection per process, fanned out to SSE subscribers.

The alert service notifies `alerts.queries.CHANNEL` when a change commits. Each change is read back
once (the alert as it now is) and handed to every subscriber whose scope sees its home. A subscriber
that falls too far behind is ended (its client reconnects) rather than slowing everyone down.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import asyncpg
import orjson

from accounts.tenancy import Scope
from alerts import queries

log = logging.getLogger(__name__)

QUEUE_SIZE = 256
RESYNC = b"event: resync\ndata: {}\n\n"


@dataclass(eq=False, slots=True)
class Subscriber:
    """One open stream: what it may see, and its queue of ready-made SSE frames (None ends it)."""

    scope: Scope
    home_id: UUID | None
    queue: asyncio.Queue[bytes | None] = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))

    def offer(self, frame: bytes | None) -> None:
        """Queue a frame; a subscriber whose queue is full is ended instead."""
        try:
            self.queue.put_nowait(frame)
        except asyncio.QueueFull:
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(None)


class Broadcaster:
    """Owns the LISTEN connection and the fan-out task; started and closed by the API's lifespan."""

    def __init__(self, dsn: str, pool: asyncpg.Pool) -> None:
        self._dsn = dsn
        self._pool = pool
        self._subscribers: set[Subscriber] = set()
        self._changes: asyncio.Queue[dict[str, Any]] = asyncio.Queue(10_000)
        self._tasks: list[asyncio.Task[None]] = []
        self._listening = asyncio.Event()

    async def start(self, *, timeout: float = 10) -> None:
        """Start listening; returns once the first LISTEN is in place."""
        self._tasks = [
            asyncio.create_task(self._listen(), name="alerts-listen"),
            asyncio.create_task(self._fan_out(), name="alerts-fan-out"),
        ]
        async with asyncio.timeout(timeout):
            await self._listening.wait()

    async def close(self) -> None:
        """End every stream, stop listening and wait for the tasks to finish."""
        self.end_streams()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    def end_streams(self) -> None:
        """End every open stream now (a server shutting down cannot wait for clients to leave)."""
        for subscriber in list(self._subscribers):
            subscriber.offer(None)

    @property
    def subscribers(self) -> int:
        """How many streams are open."""
        return len(self._subscribers)

    @contextlib.contextmanager
    def subscribe(self, scope: Scope, *, home_id: UUID | None = None) -> Iterator[Subscriber]:
        """A subscription for the duration of the with block."""
        subscriber = Subscriber(scope, home_id)
        self._subscribers.add(subscriber)
        try:
            yield subscriber
        finally:
            self._subscribers.discard(subscriber)

    async def _listen(self) -> None:
        delay, first = 0.5, True
        while True:
            try:
                conn = await asyncpg.connect(
                    self._dsn, server_settings={"application_name": "telecare-stream"}
                )
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("alert stream: cannot connect (%s); retrying in %.1fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10)
                continue
            lost = asyncio.Event()
            try:
                conn.add_termination_listener(_setter(lost))
                await conn.add_listener(queries.CHANNEL, self._on_notify)
                if not first:
                    # Changes made while we were away were not heard: tell clients to re-read.
                    for subscriber in list(self._subscribers):
                        subscriber.offer(RESYNC)
                first, delay = False, 0.5
                self._listening.set()
                await lost.wait()
                log.warning("alert stream: lost the LISTEN connection; reconnecting")
            finally:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(conn.close(), 2)

    def _on_notify(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        try:
            self._changes.put_nowait(orjson.loads(payload))
        except (orjson.JSONDecodeError, asyncio.QueueFull):
            log.warning("alert stream: dropped a notification")

    async def _fan_out(self) -> None:
        while True:
            change = await self._changes.get()
            if not self._subscribers:
                continue
            try:
                frame, organisation_id, home_id = await self._frame(change)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, KeyError, ValueError):
                log.exception("alert stream: could not read alert %s", change.get("id"))
                continue
            if frame is None:
                continue
            for subscriber in list(self._subscribers):
                wanted = subscriber.home_id is None or subscriber.home_id == home_id
                if wanted and subscriber.scope.sees(organisation_id=organisation_id, home_id=home_id):
                    subscriber.offer(frame)

    async def _frame(self, change: dict[str, Any]) -> tuple[bytes | None, UUID, UUID]:
        alert_id = UUID(change["id"])
        organisation_id, home_id = UUID(change["organisation_id"]), UUID(change["home_id"])
        async with self._pool.acquire() as conn:
            row = await queries.get(conn, alert_id=alert_id)
        if row is None:
            return None, organisation_id, home_id
        data = orjson.dumps({"action": change.get("action", "updated"), "alert": dict(row)}, default=str)
        frame = b"event: alert\nid: %s:%d\ndata: %s\n\n" % (str(alert_id).encode(), row["version"], data)
        return frame, organisation_id, home_id


def _setter(event: asyncio.Event) -> Any:
    return lambda _conn: event.set()


async def sse_frames(
    broadcaster: Broadcaster, scope: Scope, *, home_id: UUID | None, heartbeat_s: float
) -> AsyncIterator[bytes]:
    """The body of one SSE response: a greeting, then alert frames, with a comment as heartbeat."""
    with broadcaster.subscribe(scope, home_id=home_id) as subscriber:
        yield b"retry: 3000\n: connected\n\n"
        while True:
            try:
                frame = await asyncio.wait_for(subscriber.queue.get(), heartbeat_s)
            except TimeoutError:
                yield b": heartbeat\n\n"
                continue
            if frame is None:
                return
            yield frame
