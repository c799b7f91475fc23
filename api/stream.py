"""The live stream of alert changes: one LISTEN connection per process, fanned out to SSE subscribers.

The alert service notifies `alerts.queries.CHANNEL` when a change commits. Each change is read back
once (the alert as it now is) and handed to every subscriber whose scope sees its home. A subscriber
that falls too far behind is ended (its client reconnects) rather than slowing everyone down.

A stream outlives the request that opened it, so it holds its caller's credential (a `Renewal`) and
checks it again before sending anything once the cached check is stale or something was revoked: a
narrower scope narrows the stream, a credential no longer valid ends it with an `end` event saying why.
The same connection hears other channels for the API (`listen`), such as revocations of access.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol
from uuid import UUID

import asyncpg
import orjson

from accounts.errors import NotAuthenticated
from accounts.tenancy import Scope
from alerts import queries

log = logging.getLogger(__name__)

QUEUE_SIZE = 256
RESYNC = b"event: resync\ndata: {}\n\n"
HEARTBEAT = b": heartbeat\n\n"


@dataclass(frozen=True, slots=True)
class Change:
    """A ready-made SSE frame of one alert change, and the home it is about."""

    frame: bytes
    organisation_id: UUID
    home_id: UUID
    for_everyone: bool = True  # False: a provider's working alert, never sent to a family member


# What a subscriber's queue holds: a change, a frame for everyone (resync), or None to end the stream.
Item = Change | bytes | None


class Renewal(Protocol):
    """A stream's hold on its caller's grant (api.security.Watch)."""

    def due(self) -> bool:
        """Whether the grant must be checked before anything more is sent."""

    def seconds_left(self) -> float | None:
        """Seconds until the credential expires; None if it does not."""

    async def renew(self) -> Scope:
        """The scope now; NotAuthenticated if the credential is no longer valid."""


@dataclass(eq=False, slots=True)
class Subscriber:
    """One open stream: what it may see, and its queue of changes (None ends it)."""

    scope: Scope
    home_id: UUID | None
    family: bool = False  # a family member's stream: only the kinds for everyone (migration 0021)
    queue: asyncio.Queue[Item] = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))

    def offer(self, item: Item) -> None:
        """Queue an item; a subscriber whose queue is full is ended instead."""
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(None)

    def wants(self, change: Change) -> bool:
        """Whether the change is for this stream's home (if it has one) and within its scope now."""
        if self.home_id is not None and self.home_id != change.home_id:
            return False
        if self.family and not change.for_everyone:
            return False
        return self.scope.sees(organisation_id=change.organisation_id, home_id=change.home_id)


class Broadcaster:
    """Owns the LISTEN connection and the fan-out task; started and closed by the API's lifespan."""

    def __init__(self, dsn: str, pool: asyncpg.Pool) -> None:
        self._dsn = dsn
        self._pool = pool
        self._subscribers: set[Subscriber] = set()
        self._changes: asyncio.Queue[dict[str, Any]] = asyncio.Queue(10_000)
        self._tasks: list[asyncio.Task[None]] = []
        self._listening = asyncio.Event()
        self._channels: dict[str, tuple[Callable[[str], None], Callable[[], None]]] = {}
        self._audiences: dict[str, bool] = {}

    def listen(self, channel: str, heard: Callable[[str], None], *, missed: Callable[[], None]) -> None:
        """Also hear `channel` (before start): `heard` gets each payload, `missed` runs after a reconnect."""
        self._channels[channel] = (heard, missed)

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
    def subscribe(
        self, scope: Scope, *, home_id: UUID | None = None, family: bool = False
    ) -> Iterator[Subscriber]:
        """A subscription for the duration of the with block (a family member's sees fewer kinds)."""
        subscriber = Subscriber(scope, home_id, family)
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
                for channel, (heard, _) in self._channels.items():
                    await conn.add_listener(channel, _relay(heard))
                if not first:
                    # Changes made while we were away were not heard: tell clients to re-read.
                    for _, missed in self._channels.values():
                        missed()
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
                frame = await self._frame(change)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, KeyError, ValueError):
                log.exception("alert stream: could not read alert %s", change.get("id"))
                continue
            if frame is None:
                continue
            for subscriber in list(self._subscribers):
                if subscriber.wants(frame):
                    subscriber.offer(frame)

    async def _frame(self, change: dict[str, Any]) -> Change | None:
        alert_id = UUID(change["id"])
        organisation_id, home_id = UUID(change["organisation_id"]), UUID(change["home_id"])
        async with self._pool.acquire() as conn:
            row = await queries.get(conn, alert_id=alert_id)
            if row is None:
                return None
            everyone = await self._for_everyone(conn, row["kind"])
        data = orjson.dumps({"action": change.get("action", "updated"), "alert": dict(row)}, default=str)
        frame = b"event: alert\nid: %s:%d\ndata: %s\n\n" % (str(alert_id).encode(), row["version"], data)
        return Change(frame, organisation_id, home_id, everyone)

    async def _for_everyone(self, conn: asyncpg.Connection, kind: str) -> bool:
        # A kind's audience is fixed by the migrations: read once per kind and process.
        known = self._audiences.get(kind)
        if known is None:
            known = self._audiences[kind] = await queries.for_everyone(conn, kind=kind)
        return known


def _relay(heard: Callable[[str], None]) -> Any:
    return lambda _conn, _pid, _channel, payload: heard(payload)


def _setter(event: asyncio.Event) -> Any:
    return lambda _conn: event.set()


async def sse_frames(
    broadcaster: Broadcaster,
    renewal: Renewal,
    scope: Scope,
    *,
    home_id: UUID | None,
    heartbeat_s: float,
    family: bool = False,
) -> AsyncIterator[bytes]:
    """The body of one SSE response: a greeting, then alert frames, with a comment as heartbeat.

    Nothing is sent on a grant that is due for a check until it has been checked; the stream ends with
    an `end` event when the check fails or the stream's home left the caller's scope.
    """
    with broadcaster.subscribe(scope, home_id=home_id, family=family) as subscriber:
        yield b"retry: 3000\n: connected\n\n"
        while True:
            left = renewal.seconds_left()
            # Wake at the credential's expiry, if that comes before the next heartbeat.
            wait = heartbeat_s if left is None else min(heartbeat_s, left + 0.05)
            try:
                item: Item | bytes = await asyncio.wait_for(subscriber.queue.get(), wait)
            except TimeoutError:
                item = HEARTBEAT
            if item is None:
                return
            if renewal.due():
                ended = await _renew(renewal, subscriber)
                if ended is not None:
                    yield ended
                    return
            if isinstance(item, Change):
                if subscriber.wants(item):
                    yield item.frame
            else:
                yield item


async def _renew(renewal: Renewal, subscriber: Subscriber) -> bytes | None:
    """Check the grant again and narrow the subscriber to it; the final frame if the stream must end."""
    try:
        subscriber.scope = await renewal.renew()
    except NotAuthenticated as exc:
        return end_frame(str(exc))
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
        # Access that cannot be checked is not assumed: the client reconnects when the database is back.
        log.warning("alert stream: could not check a subscriber's access; ending its stream")
        return end_frame("access could not be checked; reconnect")
    home = subscriber.home_id
    if home is not None and not _may_see(subscriber.scope, home):
        return end_frame(f"home {home} is no longer visible to this account")
    return None


def _may_see(scope: Scope, home_id: UUID) -> bool:
    # An organisation-wide scope keeps every home of it (a home does not change organisation).
    return scope.everything or scope.organisation_id is not None or home_id in scope.home_ids


def end_frame(reason: str) -> bytes:
    """The last frame of a stream whose right to be open ended, and why."""
    return b"event: end\ndata: %s\n\n" % orjson.dumps({"reason": reason})
