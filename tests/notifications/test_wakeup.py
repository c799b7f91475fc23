"""The dispatcher is woken by the database (LISTEN), not by its poll: an alert raised while it waits on a
long poll is sent long before the poll would have come round."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime

import asyncpg
import httpx

from alerts import service as alerts
from alerts.service import Signal
from kernel.settings import Settings
from notifications.channels.webpush import new_vapid_pem
from notifications.process import build_dispatcher
from tests.notifications.support import HttpReceiver, SmtpSink, build_people, set_policy, three_steps


async def test_a_new_alert_wakes_the_dispatcher(
    pool: asyncpg.Pool, notify_settings: Settings, sinks: tuple[SmtpSink, HttpReceiver]
) -> None:
    smtp, http = sinks
    async with pool.acquire() as conn:
        people = await build_people(conn, webhook_url=http.url)
        await set_policy(conn, org=people.org, home=people.home, policy=three_steps(people))
    settings = notify_settings.model_copy(update={"notify_poll_s": 60.0})
    async with httpx.AsyncClient() as client:
        dispatcher = build_dispatcher(pool, settings, client, new_vapid_pem())
        task = asyncio.create_task(dispatcher.run())
        try:
            await asyncio.wait_for(dispatcher.ready.wait(), 30)
            await asyncio.sleep(0.5)  # past the first look: now it waits on its poll
            async with pool.acquire() as conn:
                await alerts.raise_or_update(
                    conn,
                    Signal(
                        home_id=people.home,
                        kind="alarm_pressed",
                        severity="critical",
                        dedupe_key="alarm",
                        triggered_at=datetime.now(UTC),
                        title="Alarm pressed",
                        explanation="The button was pressed.",
                    ),
                )
            await smtp.wait_for(people.emails["daughter"], timeout=30)
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
