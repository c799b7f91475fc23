"""Rosters planned in the background: the solver in a worker thread, its progress written to the roster.

The owner (the API's lifespan, or the CLI) creates one RosterJobs and closes it; close() cancels what is
still running and waits, so no task outlives it. A job that fails leaves its roster 'failed' with the
reason; nothing is half-stored (a plan's rows are written in one transaction).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass
from datetime import date
from uuid import UUID

import asyncpg

from rostering import queries, service
from rostering.model import Plan, Weights
from rostering.planner import plan
from rostering.source import VisitSource
from rostering.travel import TravelMatrix

log = logging.getLogger(__name__)
PROGRESS_EVERY_S = 1.0


@dataclass(slots=True, frozen=True)
class RosterRequest:
    """What a job plans."""

    roster_id: UUID
    organisation_id: UUID
    start: date
    end: date
    weights: Weights
    time_limit_s: float


class _Progress:
    """The latest progress, written by the solver's thread and read by the job's task."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._value: tuple[float, str] = (0.0, "loading")

    def __call__(self, fraction: float, message: str) -> None:
        with self._lock:
            self._value = (fraction, message)

    def read(self) -> tuple[float, str]:
        with self._lock:
            return self._value


class RosterJobs:
    """The running roster jobs of one process."""

    def __init__(self, pool: asyncpg.Pool, source: VisitSource, travel: TravelMatrix) -> None:
        self._pool = pool
        self._source = source
        self._travel = travel
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def travel(self) -> TravelMatrix:
        """The travel times the jobs plan with (a re-plan uses the same)."""
        return self._travel

    def start(self, request: RosterRequest) -> None:
        """Plan the roster in the background."""
        task = asyncio.create_task(self._run(request), name=f"roster-{request.roster_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def wait(self) -> None:
        """Until every job now running has finished (the CLI waits for its one job)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        """Stop every job still running and wait for them."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def _run(self, request: RosterRequest) -> None:
        solving: asyncio.Task[Plan] | None = None
        try:
            async with self._pool.acquire() as conn:
                problem, unplannable = await service.load_problem(
                    conn,
                    self._source,
                    organisation_id=request.organisation_id,
                    start=request.start,
                    end=request.end,
                    weights=request.weights,
                )
            progress = _Progress()
            task = asyncio.create_task(
                asyncio.to_thread(
                    plan, problem, self._travel, time_limit_s=request.time_limit_s, progress=progress
                )
            )
            solving = task
            reported = (-1.0, "")
            while not task.done():
                await asyncio.wait({task}, timeout=PROGRESS_EVERY_S)
                if (now := progress.read()) != reported:
                    reported = now
                    async with self._pool.acquire() as conn:
                        await queries.set_progress(
                            conn, roster_id=request.roster_id, progress=now[0], message=now[1]
                        )
            result = task.result()
            async with self._pool.acquire() as conn, conn.transaction():
                await service.store_plan(
                    conn, roster_id=request.roster_id, plan=result, unplannable=unplannable
                )
        except asyncio.CancelledError:
            if solving is not None:
                # The thread runs out its time limit; the task that waits for it ends here.
                solving.cancel()
            await asyncio.shield(self._fail(request.roster_id, "stopped: the service shut down"))
            raise
        except Exception as exc:
            log.exception("rostering: roster %s failed", request.roster_id)
            await self._fail(request.roster_id, f"planning failed: {exc}")

    async def _fail(self, roster_id: UUID, message: str) -> None:
        try:
            async with self._pool.acquire() as conn:
                await queries.fail_roster(conn, roster_id=roster_id, message=message)
        except (asyncpg.PostgresError, OSError, asyncpg.InterfaceError):
            log.warning("rostering: could not mark roster %s failed", roster_id)
