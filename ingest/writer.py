"""What the ingest worker writes, and the transaction that writes it: readings, device health, dead letters.

Each writer keeps one connection for as long as it works, and a batch costs as few round trips as
possible: BEGIN, one statement that stores the new readings and logs them for the detector, device
health (one locking read, and a write when something changed), and COMMIT. While a round trip is
out the event loop routes messages, so every one saved shortens the time a batch holds the broker's
window.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from devices.health import HealthKeeper, HealthUpdate
from ingest import queries
from kernel.mqtt import Incoming

log = logging.getLogger(__name__)


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
    """A message that goes to the dead-letter table."""

    reason: str
    detail: str


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

        asyncpg.DataError (a row the database refuses) rolls the batch back and is raised; a connection
        that failed otherwise is dropped, and the error raised for the caller to retry.
        """
        while True:
            conn = await self._connection()
            try:
                async with conn.transaction():
                    fresh, update = await _write(conn, self.health, readings, rejected)
            except asyncpg.DataError:
                raise
            except asyncpg.exceptions.DeadlockDetectedError as exc:
                # Rolled back whole (the heartbeat check or another worker locked devices the other way
                # round): nothing was written or learned, so do it again.
                log.info("batch chosen as a deadlock victim (%s); writing it again", exc)
                continue
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
            if terminate:
                conn.terminate()
            await self.pool.release(conn)


async def _write(
    conn: asyncpg.Connection,
    health: HealthKeeper,
    readings: list[ReadingRow],
    rejected: list[tuple[Incoming, Rejected]],
) -> tuple[list[ReadingRow], HealthUpdate]:
    """Write one batch in the caller's transaction; returns the readings that were new."""
    fresh: list[ReadingRow] = []
    if readings:
        new = await queries.store_readings(conn, columns=columns(readings))
        fresh = [r for r in readings if (r.device_id, r.seq) in new]
    update = await health.apply(conn, fresh)
    if rejected:
        await queries.insert_dead_letters(
            conn, rows=[(m.received_at, m.topic, m.payload, r.reason, r.detail) for m, r in rejected]
        )
    return fresh, update
