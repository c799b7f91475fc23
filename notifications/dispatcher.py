"""The dispatcher: plans the outbox, steps the chains and sends the deliveries, woken by LISTEN.

Any number of dispatchers may run against one database: every piece of work is taken with
FOR UPDATE SKIP LOCKED, so they share it without sending anything twice.

Sending: `senders` deliveries go out at once, as a few claimers each taking a batch of up to `batch`
(one transaction a batch, its messages sent together): a burst costs a few statements and one commit a
batch, where one delivery a transaction cost a commit and half a dozen round trips each.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

from notifications import chains, queries
from notifications.channels.base import Channel
from notifications.clock import Clock, SystemClock
from notifications.sender import SendConfig, send_batch

log = logging.getLogger(__name__)


class Dispatcher:
    """One dispatcher: a planner task and sender tasks sending `senders` deliveries at once, on a pool."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        dsn: str,
        channels: dict[str, Channel],
        config: SendConfig,
        *,
        senders: int = 8,
        batch: int = 8,
        poll_s: float = 1.0,
        clock: Clock | None = None,
        digest: Callable[..., Awaitable[Any]] | None = None,
    ) -> None:
        self.pool = pool
        self.dsn = dsn
        self.channels = channels
        self.config = config
        self.senders = senders
        # Enough claimers that one sends while another is at the database, each batch a share of `senders`.
        self.claimers = max(2, math.ceil(senders / batch)) if senders > 1 else 1
        self.batch = math.ceil(senders / self.claimers)
        self.poll_s = poll_s
        self.clock = clock or SystemClock()
        self.digest = digest
        self._work = asyncio.Event()
        self._sends = asyncio.Event()
        self.ready = asyncio.Event()

    def wake(self) -> None:
        """Look for work now (a LISTEN notification, or a test that moved the clock)."""
        self._work.set()
        self._sends.set()

    async def run(self) -> None:
        """Run until cancelled."""
        listener = await asyncpg.connect(self.dsn)
        try:
            await listener.add_listener(queries.CHANNEL, lambda *_: self.wake())
            async with asyncio.TaskGroup() as group:
                group.create_task(self._plan_loop(), name="notify-planner")
                for n in range(self.claimers):
                    group.create_task(self._send_loop(), name=f"notify-sender-{n}")
                self.ready.set()
        finally:
            with contextlib.suppress(Exception):
                await listener.close()
            await self.close()

    async def close(self) -> None:
        """Close what the channels keep open (the email channel's SMTP sessions)."""
        for channel in self.channels.values():
            closing = getattr(channel, "close", None)
            if closing is not None:
                with contextlib.suppress(Exception):
                    await closing()

    async def run_once(self) -> None:
        """Plan, step and send until nothing is due (tests drive the dispatcher with this)."""
        while await self._plan_pass() or await self._send_pass():
            pass

    async def _send_pass(self) -> int:
        return await send_batch(
            self.pool, self.channels, self.config, at=self.clock.now(), limit=self.batch, digest=self.digest
        )

    async def _plan_pass(self) -> int:
        async with self.pool.acquire() as conn:
            done = await chains.plan_outbox(conn, at=self.clock.now())
            done += await chains.step_chains(conn, at=self.clock.now())
        if done:
            self._sends.set()
        return done

    async def _plan_loop(self) -> None:
        while True:
            self._work.clear()
            try:
                while await self._plan_pass():
                    pass
            except (asyncpg.PostgresError, OSError) as exc:
                log.warning("notification planning failed, will retry: %s", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._work.wait(), self.poll_s)

    async def _send_loop(self) -> None:
        while True:
            # Cleared before looking: work committed after this is found now or wakes the wait below.
            self._sends.clear()
            try:
                if await self._send_pass():
                    continue
            except (asyncpg.PostgresError, OSError) as exc:
                log.warning("notification sending failed, will retry: %s", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._sends.wait(), self.poll_s)
