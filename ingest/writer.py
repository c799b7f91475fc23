"""What the ingest worker writes, and the transaction that writes it: readings, device health, dead letters.

Each writer keeps one connection for as long as it works, and a batch costs as few round trips as
possible: BEGIN, one statement that stores the new readings and logs them for the detector, device
health (one locking read, and a write when something changed), and COMMIT. While a round trip is
out the event loop routes messages, so every one saved shortens the time a batch holds the broker's
window.

A message is identified by its device and seq (docs/mqtt-contract.md, Delivery semantics). One that
finds its seq already taken is a redelivery when its ts is the same, and is dropped; with another ts the
device has reused a seq, and the message is dead-lettered as `seq_reused`, except an alarm, fall, smoke
or water-leak message, which is stored all the same: a device whose counter went back (a factory reset)
must still be heard. Those costs only arise for messages whose seq is taken, never on the common path.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TypeVar
from uuid import UUID

import asyncpg
import orjson

from devices.contract import PRIORITY_KINDS
from devices.health import HealthKeeper, HealthUpdate
from ingest import metrics, queries
from kernel.mqtt import Incoming

log = logging.getLogger(__name__)
T = TypeVar("T")


class Source(Protocol):
    """Where a reading came from, for its dead letter: a message, or one item of a hub's batch."""

    @property
    def topic(self) -> str:
        """The MQTT topic."""

    @property
    def payload(self) -> bytes:
        """The message's (or the item's) bytes."""

    @property
    def received_at(self) -> datetime:
        """When it arrived."""


@dataclass(frozen=True, slots=True)
class ReadingRow:
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
    # The message it came from, for a dead letter if its seq turns out to be reused.
    source: Source | None = field(default=None, compare=False, repr=False)


def columns(readings: list[ReadingRow]) -> list[list[Any]]:
    """The readings as one list per column, in queries.READING_COLUMNS order."""
    return [
        [r.time for r in readings],
        [r.received_at for r in readings],
        [r.home_id for r in readings],
        [r.device_id for r in readings],
        [r.seq for r in readings],
        [r.kind for r in readings],
        [r.value for r in readings],
        [r.payload for r in readings],
        [r.clock_suspect for r in readings],
    ]


@dataclass(frozen=True, slots=True)
class Rejected:
    """A message that goes to the dead-letter table (or one item of a hub's batch: then `payload`)."""

    reason: str
    detail: str
    # A refused item of a hub's batch keeps its own JSON here; the message's payload is the whole batch.
    payload: bytes | None = None


class ConnectionLost(ConnectionError):
    """The server ended the writer's connection in the middle of a batch; nothing of it was committed.

    asyncpg reports a connection the server cut off between two statements of a transaction (a FATAL
    such as PostgreSQL's shutdown, read while the connection was idle) as "cannot switch to state N;
    another operation is in progress" on the next statement: an InternalClientError that says nothing
    of the outage. A ConnectionError, it is retried as any other sign that the database is down.
    """


class BatchWriter:
    """One writer's connection, and the transaction that stores a batch on it."""

    def __init__(self, pool: asyncpg.Pool, health: HealthKeeper) -> None:
        self.pool = pool
        self.health = health
        self._conn: asyncpg.Connection | None = None

    async def store(
        self, readings: list[ReadingRow], rejected: list[tuple[Incoming, Rejected]]
    ) -> list[ReadingRow]:
        """Store the new readings, their health and the dead letters in one transaction; the new readings.

        asyncpg.DataError (a row the database refuses) rolls the batch back and is raised. A batch the
        database rolled back for a reason of its timing (`transient`: a deadlock, a partition attached
        while it was written) is written again here. A connection that failed otherwise is dropped, and
        the error raised for the caller to retry.
        """
        retries = 0
        while True:
            try:
                conn = await self._connection()
                write = functools.partial(_write, conn, self.health, readings, rejected)
                fresh, update = await _in_transaction(conn, write)
            except asyncpg.DataError:
                raise
            except TransientError as exc:
                # Rolled back whole for a reason of the database's timing, not of the batch: nothing was
                # written or learned, so write it again.
                retries += 1
                level = logging.WARNING if retries % 10 == 0 else logging.INFO
                log.log(level, "batch rolled back (%s); writing it again", exc)
                await asyncio.sleep(_RETRY_S[min(retries, len(_RETRY_S)) - 1])
                continue
            except asyncpg.exceptions.InternalClientError as exc:
                await self._drop(terminate=True)
                raise ConnectionLost("PostgreSQL closed the connection during a batch") from exc
            except BaseException:
                # Never keep (or hand back to the pool) a connection that failed mid-operation.
                await self._drop(terminate=True)
                raise
            self.health.learn(update)
            return fresh

    async def close(self) -> None:
        """Hand the connection back to the pool."""
        await self._drop(terminate=False)

    async def _connection(self) -> asyncpg.Connection:
        if self._conn is not None and not _attached(self._conn):
            # Lost while idle: the pool has already taken it back; forget it and take another.
            self._conn = None
        if self._conn is None:
            self._conn = await self.pool.acquire()
            try:
                await queries.prepare_writer_session(self._conn)
            except BaseException:
                await self._drop(terminate=True)
                raise
        return self._conn

    async def _drop(self, *, terminate: bool) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            if terminate and _attached(conn):
                conn.terminate()
            await self.pool.release(conn)


class TransientError(Exception):
    """The database rolled a batch back for a reason of its own timing; the same batch can succeed again.

    Raised from inside the transaction with the database's error as its cause, after the rollback.
    """


# The pauses before writing a rolled-back batch again: the first at once, then a little longer each time.
_RETRY_S = (0.0, 0.01, 0.05, 0.1, 0.5, 1.0)


def transient(exc: BaseException) -> bool:
    """Whether a statement failed for a reason of the database's timing, so that the batch can be retried.

    A deadlock or serialization failure (class 40, the transaction rolled back); a prepared statement
    that DDL changed under it (asyncpg forgets it, so the next attempt prepares it afresh); and a row
    routed by a partition set that changed while the statement waited: PostgreSQL attaches a partition
    holding only SHARE UPDATE EXCLUSIVE on the parent, so an INSERT that routed a row to the default
    partition before the attach committed then finds the row outside the default's new constraint.
    That one is told from a CHECK constraint's violation by having no constraint name.
    """
    if isinstance(exc, asyncpg.exceptions.TransactionRollbackError | asyncpg.InvalidCachedStatementError):
        return True
    return isinstance(exc, asyncpg.exceptions.CheckViolationError) and not exc.constraint_name


async def _in_transaction(conn: asyncpg.Connection, work: Callable[[], Awaitable[T]]) -> T:
    """Run `work` in a transaction of its own.

    Not `async with conn.transaction()`: on any error that sends a ROLLBACK, and on a connection the
    server has just cut off (PostgreSQL shutting down) the ROLLBACK fails as "another operation is in
    progress" and hides the real error. Such a connection is terminated by the caller instead, which
    ends its transaction just as well.
    """
    transaction = conn.transaction()
    await transaction.start()
    try:
        result = await work()
    except asyncpg.DataError:
        await transaction.rollback()
        raise
    except asyncpg.PostgresError as exc:
        if not transient(exc):
            raise
        await transaction.rollback()
        raise TransientError(f"{type(exc).__name__}: {exc}") from exc
    try:
        await transaction.commit()
    except asyncpg.PostgresError as exc:
        # A COMMIT that fails has ended the transaction all the same.
        if not transient(exc):
            raise
        raise TransientError(f"{type(exc).__name__} at commit: {exc}") from exc
    return result


def _attached(conn: asyncpg.Connection) -> bool:
    """Whether a connection acquired from the pool is still ours to use.

    When the server goes away asyncpg closes the connection and hands its slot back to the pool by
    itself, detaching the proxy we hold: any call on it then raises InterfaceError ("connection has
    been released back to the pool"), terminate() included.
    """
    try:
        return not conn.is_closed()
    except asyncpg.InterfaceError:
        return False


async def _write(
    conn: asyncpg.Connection,
    health: HealthKeeper,
    readings: list[ReadingRow],
    rejected: list[tuple[Incoming, Rejected]],
) -> tuple[list[ReadingRow], HealthUpdate]:
    """Write one batch in the caller's transaction; returns the readings that were new."""
    fresh: list[ReadingRow] = []
    letters = [
        (m.received_at, m.topic, m.payload if r.payload is None else r.payload, r.reason, r.detail)
        for m, r in rejected
    ]
    if readings:
        fresh, reused = await _store_once(conn, readings)
        letters += reused
    update = await health.apply(conn, fresh)
    if letters:
        rows = [(at, storable(topic), raw, reason, storable(why)) for at, topic, raw, reason, why in letters]
        await queries.insert_dead_letters(conn, rows=rows)
    return fresh, update


DeadLetter = tuple[datetime, str, bytes, str, str]


def storable(text: str) -> str:
    """The text as PostgreSQL can store it: NUL and lone surrogates (which its text has not) escaped.

    The contract's checks keep both out of every reason they give, and Mosquitto out of topics; this
    is the last guard, so that a dead letter (the payload is kept whole as bytes) is always written.
    """
    if "\x00" not in text and text.isascii():
        return text
    return text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")


async def _store_once(
    conn: asyncpg.Connection, readings: list[ReadingRow]
) -> tuple[list[ReadingRow], list[DeadLetter]]:
    """Store the readings whose (device, seq) is new; the stored ones, and dead letters for reused seqs."""
    stored = await queries.store_readings(conn, columns=columns(readings))
    fresh, taken = _first_of_each(readings, {(d, s, None) for d, s in stored}, with_time=False)
    if not taken:
        return fresh, []
    claims = await queries.claimed_times(conn, keys=[(r.device_id, r.seq) for r in taken])
    reused = [r for r in taken if claims.get((r.device_id, r.seq), r.time) != r.time]
    alarms = [r for r in reused if r.kind in PRIORITY_KINDS]
    if alarms:
        log.warning(
            "%d alarm message(s) reuse a seq their device already used with another ts (a counter reset?);"
            " stored all the same: %s",
            len(alarms),
            ", ".join(f"device {r.device_id} seq {r.seq}" for r in alarms[:5]),
        )
        again = await queries.store_unclaimed(conn, columns=columns(alarms))
        fresh += _first_of_each(alarms, again, with_time=True)[0]
    letters = [
        _reused_letter(r, claims[(r.device_id, r.seq)]) for r in reused if r.kind not in PRIORITY_KINDS
    ]
    if letters:
        metrics.DEAD_LETTERS.labels("seq_reused").inc(len(letters))
    return fresh, letters


def _first_of_each(
    readings: list[ReadingRow], stored: Collection[tuple[UUID, int, datetime | None]], *, with_time: bool
) -> tuple[list[ReadingRow], list[ReadingRow]]:
    """The first reading of each stored key (device, seq[, time]), and all the others, in order."""
    first: list[ReadingRow] = []
    rest: list[ReadingRow] = []
    seen: set[tuple[UUID, int, datetime | None]] = set()
    for r in readings:
        key = (r.device_id, r.seq, r.time if with_time else None)
        if key in stored and key not in seen:
            seen.add(key)
            first.append(r)
        else:
            rest.append(r)
    return first, rest


def _reused_letter(reading: ReadingRow, first_ts: datetime) -> DeadLetter:
    """The dead letter of a message whose seq an earlier message with another ts already used."""
    detail = (
        f"seq {reading.seq} of device {reading.device_id} was already used by a message with ts"
        f" {first_ts.isoformat()}; this one has ts {reading.time.isoformat()} and is not stored"
        " (a device must never reuse a seq)"
    )
    source = reading.source
    if source is None:
        return (reading.received_at, "", orjson.dumps(reading.payload), "seq_reused", detail)
    return (source.received_at, source.topic, source.payload, "seq_reused", detail)
