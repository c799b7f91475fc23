"""The priority lane: alarms, falls, smoke and water leaks on a path of their own, in a process of their own.

Measured (issue 11): behind one MQTT session an alarm waited for every reading already in flight or
queued for it (the broker delivers a session's messages in order), then for an event loop that routes
thousands of readings a second. The lane is an `IngestWorker` subscribed to the priority kinds only,
with its own client id and persistent session, its own event loop and database connection. Run in
its own process (the default), the operating system schedules it apart from the main worker (the GIL
and the main loop cannot hold it up); it asks for a higher scheduling priority where that is allowed.

It keeps the worker's guarantees: acknowledged only after commit, its session holds what it has not
acknowledged across a crash, and the main worker stores the same messages too (the database keeps
one), so an alarm is stored while the lane restarts. The supervisor restarts a lane that exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import multiprocessing as mp
import os
import signal
from multiprocessing.synchronize import Event as MpEvent

from ingest.service import SESSION_EXPIRY_S, IngestWorker, until_database_answers
from kernel import heap
from kernel.connect import mqtt_config, require_database_url
from kernel.db import create_pool
from kernel.logs import configure_logging
from kernel.settings import PriorityLane as LaneMode
from kernel.settings import Settings

log = logging.getLogger(__name__)

# Lower is more CPU for the lane when the machine is busy; only allowed with CAP_SYS_NICE (root).
LANE_NICENESS = -10
_RESTART_S = (1, 2, 5, 10)
_PR_SET_PDEATHSIG = 1
_CTX = mp.get_context("spawn")


def lane_client_id(client_id: str) -> str:
    """The lane's MQTT client id, derived from the worker's (stable, so its session survives restarts)."""
    return f"{client_id[:55]}-priority"


async def run_priority_lane(settings: Settings, *, listening: asyncio.Event | None = None) -> None:
    """Run the priority lane until cancelled (the database is migrated by the worker that started it)."""
    dsn = require_database_url(settings)
    pool = await until_database_answers(
        "connecting the priority lane", lambda: create_pool(dsn, min_size=1, max_size=2)
    )
    try:
        worker = IngestWorker(
            pool=pool,
            mqtt=mqtt_config(
                settings,
                client_id=lane_client_id(settings.mqtt_client_id),
                clean_start=False,
                session_expiry_s=SESSION_EXPIRY_S,
                receive_maximum=settings.mqtt_receive_maximum,
            ),
            topic_root=settings.mqtt_topic_root,
            shared=settings.ingest_shared_subscription,
            priority_only=True,
        )
        if listening is not None:
            worker.subscribed = listening
        await worker.run()
    finally:
        await pool.close()


class PriorityLane:
    """Runs the lane (a child process, or tasks here) and restarts it; `ready()` once it listens."""

    def __init__(self, settings: Settings, mode: LaneMode) -> None:
        self.settings = settings
        self.mode = mode
        self._listening = _CTX.Event()
        self.restarts = 0

    def ready(self) -> bool:
        """True while the lane has subscribed (its session now holds a copy of every priority message)."""
        return self._listening.is_set()

    async def run(self) -> None:
        """Keep the lane running until cancelled; then stop it."""
        if self.mode is LaneMode.INLINE:
            await self._run_inline()
            return
        tries = 0
        while True:
            code = await self._run_child()
            self._listening.clear()
            delay = _RESTART_S[min(tries, len(_RESTART_S) - 1)]
            log.error("priority lane exited (code %s); restarting in %d s", code, delay)
            tries += 1
            self.restarts += 1
            await asyncio.sleep(delay)

    async def _run_inline(self) -> None:
        listening = asyncio.Event()
        waiter = asyncio.create_task(listening.wait())
        waiter.add_done_callback(lambda _: self._listening.set())
        try:
            await until_database_answers(
                "starting the priority lane",
                lambda: run_priority_lane(self.settings, listening=listening),
            )
        finally:
            waiter.cancel()

    async def _run_child(self) -> int | None:
        proc = _CTX.Process(
            target=_child_main, args=(self.settings, self._listening, os.getpid()), name="telecare-priority"
        )
        proc.start()
        log.info("priority lane started (pid %s)", proc.pid)
        try:
            while proc.is_alive():
                await asyncio.sleep(0.5)
            return proc.exitcode
        finally:
            if proc.is_alive():
                proc.terminate()  # the lane disconnects cleanly; what it had not acked comes again
                await asyncio.to_thread(proc.join, 15)
                if proc.is_alive():
                    proc.kill()
                    await asyncio.to_thread(proc.join, 5)


def _child_main(settings: Settings, listening: MpEvent, parent: int) -> None:
    """The lane's process: dies with its parent, asks for more CPU, runs until SIGTERM or SIGINT."""
    _die_with_parent()
    configure_logging(settings)
    with contextlib.suppress(PermissionError, OSError):
        os.setpriority(os.PRIO_PROCESS, 0, LANE_NICENESS)
    log.info("priority lane process %d at niceness %d", os.getpid(), os.getpriority(os.PRIO_PROCESS, 0))
    asyncio.run(_child(settings, listening, parent))


async def _child(settings: Settings, listening: MpEvent, parent: int) -> None:
    loop = asyncio.get_running_loop()
    subscribed = asyncio.Event()
    lane = asyncio.create_task(run_priority_lane(settings, listening=subscribed))
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lane.cancel)
    waiter = asyncio.create_task(subscribed.wait())
    await asyncio.wait([lane, waiter], return_when=asyncio.FIRST_COMPLETED)
    waiter.cancel()
    if subscribed.is_set():
        listening.set()
        heap.settle()
    while not lane.done():
        if os.getppid() != parent:  # the worker is gone (where PR_SET_PDEATHSIG is not available)
            lane.cancel()
        await asyncio.wait([lane], timeout=1)
    with contextlib.suppress(asyncio.CancelledError):
        await lane


def _die_with_parent() -> None:
    # Linux: SIGTERM this process when the worker that started it dies, even by SIGKILL.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
