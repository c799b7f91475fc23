"""A real browser for the console tests: Debian's chromium driven by Playwright (never a downloaded one),
and a live system (API with the console, ingest, detector) on the test's database and broker."""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from devices import service as devices
from devices.dynsec import connect_admin
from kernel.connect import mqtt_config
from kernel.embedded import EmbeddedMosquitto
from kernel.mqtt import AsyncMqttClient, MqttConfig
from kernel.settings import Settings
from telecare.services import run_detector, run_ingest
from tests.api.live import Server, serving
from tests.console.helpers import PASSWORD, console_settings, give_passwords
from tests.support import rig_publisher

CHROMIUM = Path(os.environ.get("TELECARE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 360, "height": 780}
DESKTOP = {"width": 1280, "height": 900}


def _installed() -> bool:
    return CHROMIUM.exists()


@contextlib.asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    """Debian's chromium, headless; the test is skipped where it is not installed (`make browser`)."""
    if not _installed():
        pytest.skip(f"no chromium at {CHROMIUM}: `make browser` installs Debian's chromium package")
    async with async_playwright() as driver:
        browser = await driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        try:
            yield browser
        finally:
            await browser.close()


async def logged_in(
    browser: Browser, base: str, email: str, *, viewport: dict[str, int], **options: Any
) -> Page:
    """A new browser context (with these options: a geolocation, permissions) logged in through the
    console's form; its page."""
    context: BrowserContext = await browser.new_context(base_url=base, viewport=viewport, **options)  # type: ignore[arg-type]
    page = await context.new_page()
    await page.goto("/console/login")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await page.wait_for_url(lambda url: "/console/login" not in url)
    return page


@dataclass
class Live:
    """A served API with the console, its ingest worker and detector, and a publisher on the broker."""

    server: Server
    settings: Settings
    publisher: MqttConfig


@contextlib.asynccontextmanager
async def live_system(settings: Settings, broker: EmbeddedMosquitto) -> AsyncIterator[Live]:
    """serve_api (console included), ingest and the detector, fast timings, people with passwords."""
    settings = console_settings(settings).model_copy(
        update={"detector_tick_s": 0.2, "detector_poll_ms": 50, "sse_heartbeat_s": 1.0}
    )
    subscribed, ready = asyncio.Event(), asyncio.Event()
    workers = [
        asyncio.create_task(run_ingest(settings, subscribed=subscribed), name="ingest-under-test"),
        asyncio.create_task(run_detector(settings, ready=ready), name="detector-under-test"),
    ]
    try:
        async with asyncio.timeout(60):
            await subscribed.wait()
            await ready.wait()
        async with serving(settings) as server:
            world = server.world
            people = [world.a.coordinator, world.b.coordinator, world.a.family, world.b.family, world.a.carer]
            await give_passwords(server.pool, *people)
            yield Live(server, settings, await rig_publisher(settings, broker))
    finally:
        for task in workers:
            task.cancel()
        for task in workers:
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def register_pendant(live: Live, home_id: uuid.UUID) -> uuid.UUID:
    """A pendant registered in the broker for the home; its device id."""
    config = mqtt_config(live.settings, client_id=f"adm-{uuid.uuid4().hex[:6]}")
    async with connect_admin(config) as admin:
        made = await devices.register_device(
            live.server.pool,
            admin,
            topic_root=live.settings.mqtt_topic_root,
            home_id=home_id,
            device_type="pendant",
        )
    return made.device_id


@contextlib.asynccontextmanager
async def publisher(live: Live) -> AsyncIterator[AsyncMqttClient]:
    """A connected MQTT client allowed to publish under the test's topic root."""
    client = AsyncMqttClient(live.publisher)
    await client.connect()
    try:
        yield client
    finally:
        await client.disconnect()
