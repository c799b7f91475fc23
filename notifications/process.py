"""The notifier's process (`telecare notify`): the channels configured from the settings, the dispatcher."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import asyncpg
import httpx

from kernel.connect import require_database_url
from kernel.db import create_pool
from kernel.migrate import migrate
from kernel.settings import Settings
from notifications import queries
from notifications.channels.base import Channel
from notifications.channels.email import EmailChannel, SmtpConfig
from notifications.channels.textmsg import SmsChannel
from notifications.channels.webhook import WebhookChannel
from notifications.channels.webpush import WebPushChannel, new_vapid_pem
from notifications.clock import Clock
from notifications.dispatcher import Dispatcher
from notifications.sender import SendConfig

log = logging.getLogger(__name__)
VAPID_KEY = "vapid_private_pem"


def send_config(settings: Settings) -> SendConfig:
    """How deliveries are sent, from the settings."""
    return SendConfig(
        public_url=settings.notify_public_url,
        ack_link_lifetime=timedelta(hours=settings.notify_ack_link_hours),
        timeout_s=settings.notify_send_timeout_s,
        retry_base_s=settings.notify_retry_base_s,
        retry_max_s=settings.notify_retry_max_s,
        max_attempts=settings.notify_max_attempts,
    )


def smtp_config(settings: Settings) -> SmtpConfig:
    """Where email is submitted, from the settings."""
    password = settings.notify_smtp_password.get_secret_value() if settings.notify_smtp_password else None
    return SmtpConfig(
        host=settings.notify_smtp_host,
        port=settings.notify_smtp_port,
        sender=settings.notify_email_from,
        username=settings.notify_smtp_username,
        password=password,
        tls=settings.notify_smtp_tls,
        starttls=settings.notify_smtp_starttls,
        timeout_s=settings.notify_send_timeout_s,
    )


async def vapid_key(pool: asyncpg.Pool, settings: Settings) -> str:
    """The VAPID private key: the configured one, else the one made on first start and kept in the DB."""
    if settings.notify_vapid_private_key is not None:
        return settings.notify_vapid_private_key.get_secret_value()
    async with pool.acquire() as conn:
        stored = await queries.get_key(conn, name=VAPID_KEY)
        return stored or await queries.put_key_once(conn, name=VAPID_KEY, value=new_vapid_pem())


def channels(settings: Settings, http: httpx.AsyncClient, vapid_pem: str) -> dict[str, Channel]:
    """Every channel, configured."""
    return {
        "email": EmailChannel(smtp_config(settings), keep=settings.notify_senders),
        "sms": SmsChannel(settings.notify_sms_url),
        "webpush": WebPushChannel(vapid_pem, settings.notify_vapid_subject, settings.notify_send_timeout_s),
        "webhook": WebhookChannel(http),
    }


def build_dispatcher(
    pool: asyncpg.Pool,
    settings: Settings,
    http: httpx.AsyncClient,
    vapid_pem: str,
    *,
    clock: Clock | None = None,
) -> Dispatcher:
    """A dispatcher on the pool with every channel configured from the settings."""
    from notifications.digest import digest_message

    return Dispatcher(
        pool,
        require_database_url(settings),
        channels(settings, http, vapid_pem),
        send_config(settings),
        senders=settings.notify_senders,
        poll_s=settings.notify_poll_s,
        clock=clock,
        digest=digest_message,
    )


async def serve(
    settings: Settings, *, ready: asyncio.Event | None = None, clock: Clock | None = None
) -> None:
    """Run a dispatcher until cancelled (`telecare notify`, and inside `telecare run`)."""
    from notifications.digest import schedule_digests

    dsn = require_database_url(settings)
    pool = await create_pool(dsn, min_size=2, max_size=settings.notify_senders + 3)
    try:
        async with pool.acquire() as conn:
            await migrate(conn, storage=settings.storage)
        pem = await vapid_key(pool, settings)
        timeout = httpx.Timeout(settings.notify_send_timeout_s)
        async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as http:
            dispatcher = build_dispatcher(pool, settings, http, pem, clock=clock)
            async with asyncio.TaskGroup() as group:
                group.create_task(dispatcher.run(), name="notify-dispatcher")
                group.create_task(
                    schedule_digests(pool, every_s=settings.notify_digest_check_s, clock=dispatcher.clock),
                    name="notify-digests",
                )
                await dispatcher.ready.wait()
                log.info("notifier ready")
                if ready is not None:
                    ready.set()
    finally:
        await pool.close()
