"""Exactly one active detector per name: others wait as hot standbys on a PostgreSQL advisory lock.

Two detectors reading the same logs would each fold every sign into the alerts twice. The lock is held
by a dedicated connection; if that connection is lost, so may be the lock, and the holder stops rather
than risk running beside the standby that took over.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from anomaly.errors import DetectorError

log = logging.getLogger(__name__)


class LeadershipLost(DetectorError):
    """The connection holding the detector's lock failed; another detector may be active now."""


@asynccontextmanager
async def leadership(
    dsn: str, name: str, *, retry_s: float = 2.0, check_s: float = 5.0
) -> AsyncIterator[None]:
    """Wait until this process holds the detector lock, then run the body; stop it if the lock is lost."""
    conn = await asyncpg.connect(dsn, server_settings={"application_name": f"telecare-detector-{name}"})
    try:
        await _acquire(conn, name, retry_s=retry_s)
        task = asyncio.current_task()
        assert task is not None
        lost: list[BaseException] = []
        watchdog = asyncio.create_task(_watch(conn, task, lost, check_s=check_s))
        try:
            yield
        except asyncio.CancelledError:
            if lost:
                raise LeadershipLost("lost the detector lock; stopping") from lost[0]
            raise
        finally:
            watchdog.cancel()
            await asyncio.gather(watchdog, return_exceptions=True)
    finally:
        await conn.close(timeout=2)


async def _acquire(conn: asyncpg.Connection, name: str, *, retry_s: float) -> None:
    waiting = False
    while not await conn.fetchval("SELECT pg_try_advisory_lock(hashtext('telecare-detector:' || $1))", name):
        if not waiting:
            log.info("another detector named %r is active; waiting as a standby", name)
            waiting = True
        await asyncio.sleep(retry_s)
    log.info("detector %r holds the lock", name)


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
