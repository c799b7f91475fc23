"""Exactly one active detector per name (or per partition of the homes): others wait as hot standbys on
PostgreSQL advisory locks.

Two detectors reading the same logs would each fold every sign into the alerts twice. The lock is held
by a dedicated connection; if that connection is lost, so may be the lock, and the holder stops rather
than risk running beside the standby that took over.

Where one process is not enough, the homes are split into `count` partitions (by the home id), each
with a lock of its own: a detector started with `count` partitions takes the first free one and
watches only its homes, so N processes serve N partitions and one more is the standby for whichever
fails first.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from uuid import UUID

import asyncpg

from anomaly.errors import DetectorError

log = logging.getLogger(__name__)


class LeadershipLost(DetectorError):
    """The connection holding the detector's lock failed; another detector may be active now."""


@dataclass(frozen=True, slots=True)
class Partition:
    """The share of the homes one detector watches: those whose id modulo `count` is `index`."""

    index: int = 0
    count: int = 1

    def owns(self, home_id: UUID) -> bool:
        """Whether this partition watches the home."""
        return self.count == 1 or home_id.int % self.count == self.index

    def lock_name(self, name: str) -> str:
        """The advisory lock's name (a single detector keeps the name it always had)."""
        return name if self.count == 1 else f"{name}:{self.index}/{self.count}"

    def cursor_name(self, name: str) -> str:
        """Where this partition's positions in the logs are saved (each partition reads them apart)."""
        return self.lock_name(name)

    def __str__(self) -> str:
        return "all homes" if self.count == 1 else f"partition {self.index} of {self.count}"


@asynccontextmanager
async def leadership(
    dsn: str, name: str, *, retry_s: float = 2.0, check_s: float = 5.0
) -> AsyncIterator[None]:
    """Wait until this process holds the detector lock, then run the body; stop it if the lock is lost."""
    async with partition_leadership(dsn, name, 1, retry_s=retry_s, check_s=check_s):
        yield


@asynccontextmanager
async def partition_leadership(
    dsn: str, name: str, count: int, *, retry_s: float = 2.0, check_s: float = 5.0
) -> AsyncIterator[Partition]:
    """Wait until this process holds the lock of one of `count` partitions; run the body with it."""
    conn = await asyncpg.connect(dsn, server_settings={"application_name": f"telecare-detector-{name}"})
    try:
        partition = await _acquire(conn, name, count, retry_s=retry_s)
        task = asyncio.current_task()
        assert task is not None
        lost: list[BaseException] = []
        watchdog = asyncio.create_task(_watch(conn, task, lost, check_s=check_s))
        try:
            yield partition
        except asyncio.CancelledError:
            if lost:
                raise LeadershipLost(f"lost the detector lock ({partition}); stopping") from lost[0]
            raise
        finally:
            watchdog.cancel()
            await asyncio.gather(watchdog, return_exceptions=True)
    finally:
        await conn.close(timeout=2)


async def _acquire(conn: asyncpg.Connection, name: str, count: int, *, retry_s: float) -> Partition:
    waiting = False
    while True:
        for index in range(count):
            partition = Partition(index, count)
            key = partition.lock_name(name)
            if await conn.fetchval("SELECT pg_try_advisory_lock(hashtext('telecare-detector:' || $1))", key):
                log.info("detector %r holds the lock of %s", name, partition)
                return partition
        if not waiting:
            log.info("every partition of detector %r is held; waiting as a standby", name)
            waiting = True
        await asyncio.sleep(retry_s)


async def _watch(
    conn: asyncpg.Connection, owner: asyncio.Task[object], lost: list[BaseException], *, check_s: float
) -> None:
    while True:
        await asyncio.sleep(check_s)
        try:
            await conn.fetchval("SELECT 1", timeout=check_s)
        except (TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
            log.error("the connection holding the detector lock failed: %s", exc)
            lost.append(exc)
            owner.cancel()
            return
