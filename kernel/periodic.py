"""Running a job now and then every interval, for the periodic upkeep the composition root schedules."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import asyncpg

log = logging.getLogger(__name__)


async def every(interval_s: float, job: Callable[[], Awaitable[None]], *, what: str) -> None:
    """Run job now and then every interval until cancelled; a database or network failure is logged
    ("<what> failed, will retry") and the job tried again at the next interval."""
    while True:
        try:
            await job()
        except (asyncpg.PostgresError, OSError) as exc:
            log.warning("%s failed, will retry: %s", what, exc)
        await asyncio.sleep(interval_s)
