"""The demo's simulated homes, 28 days of them, through the real broker, ingest and detector, seen in a
real browser: the coordinator's board, a home's day and the family's view at a phone's width each show
something real. The screenshots are written to docs/console/ with TELECARE_SCREENSHOTS=docs
(`make screenshots`), else to the test's own folder."""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from playwright.async_api import expect

from accounts.service import create_user
from accounts.tenancy import Role
from devices.dynsec import connect_admin
from homes import queries as home_queries
from ingest.upkeep import refresh_rollup
from kernel.connect import mqtt_config
from kernel.embedded import EmbeddedMosquitto
from kernel.settings import Settings
from simulators.service import SimOptions, simulate
from tests.console.browser import DESKTOP, PHONE, Live, chromium, live_system, logged_in, publisher
from tests.console.helpers import PASSWORD

pytestmark = pytest.mark.timeout(600)
COORDINATOR, FAMILY = "coordinator@sim.example", "family@sim.example"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "console"


@contextlib.asynccontextmanager
async def _simulated_month(live: Live) -> AsyncIterator[None]:
    """Three simulated homes (active, frail, dementia) from 28 days ago to now, published as fast as the
    broker takes, then going on live as in the demo (until the block ends)."""
    today = datetime.now(UTC).date()
    options = SimOptions(
        homes=3, days=28, start=today - timedelta(days=28), seed=16, live=True, care_plans=True
    )
    config = mqtt_config(live.settings, client_id=f"sim-{uuid.uuid4().hex[:6]}")
    async with connect_admin(config) as admin:
        task = asyncio.create_task(
            simulate(
                live.server.pool,
                admin,
                options,
                topic_root=live.settings.mqtt_topic_root,
                mqtt_url=live.settings.mqtt_url or "",
            ),
            name="simulated-month",
        )
        try:
            await _caught_up(live, task)
            async with live.server.pool.acquire() as conn:
                # What ingest's upkeep keeps for the last three days, over the whole month just sent.
                await refresh_rollup(conn, since=datetime.now(UTC) - timedelta(days=29))
            await _demo_people(live)
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def _demo_people(live: Live) -> None:
    """The demo's coordinator (of the simulated homes' provider) and family member (of the first home)."""
    async with live.server.pool.acquire() as conn, conn.transaction():
        home = await conn.fetchrow("SELECT id, organisation_id FROM homes WHERE name LIKE 'Sim home 1 %'")
        org = home["organisation_id"]
        await create_user(
            conn,
            email=COORDINATOR,
            name="Demo Coordinator",
            role=Role.COORDINATOR,
            organisation_id=org,
            password=PASSWORD,
        )
        family = await create_user(
            conn, email=FAMILY, name="Demo Daughter", role=Role.FAMILY, organisation_id=org, password=PASSWORD
        )
        await home_queries.upsert_circle(
            conn, home_id=home["id"], user_id=family.id, relationship="daughter", receives_alerts=True
        )
        await home_queries.insert_resident(conn, home_id=home["id"], display_name="Margaret")


async def _press_pendant(live: Live, home_name: str) -> None:
    """The resident of that home presses their pendant (through the broker, as the device would)."""
    async with live.server.pool.acquire() as conn:
        home, pendant = await conn.fetchrow(
            """
            SELECT h.id, d.id FROM homes h JOIN devices d ON d.home_id = h.id
            WHERE h.name LIKE $1 AND d.type = 'pendant'
            """,
            home_name,
        )
    topic = f"{live.settings.mqtt_topic_root}/v1/{home}/{pendant}/alarm"
    payload = orjson.dumps({"ts": datetime.now(UTC).isoformat(), "seq": 10**9})
    async with publisher(live) as client:
        await client.publish(topic, payload, qos=1)


async def _caught_up(live: Live, task: asyncio.Task[object]) -> None:
    """Wait until the month is stored: readings up to the last few minutes, and no backlog growing."""
    last = -1
    async with asyncio.timeout(300):
        while True:
            assert not task.done(), "the simulator stopped"
            async with live.server.pool.acquire() as conn:
                count, newest = await conn.fetchrow("SELECT count(*), max(time) FROM readings")
            recent = newest is not None and newest > datetime.now(UTC) - timedelta(minutes=20)
            if recent and count - last < 50:
                return
            last = count
            await asyncio.sleep(2)


async def test_the_demos_homes_show_in_every_view(
    settings: Settings, broker: EmbeddedMosquitto, tmp_path: Path
) -> None:
    out = DOCS if os.environ.get("TELECARE_SCREENSHOTS") == "docs" else tmp_path
    out.mkdir(parents=True, exist_ok=True)
    async with live_system(settings, broker) as live, chromium() as browser, _simulated_month(live):
        # The detector has the month's backlog to read before its picture of today is current.
        await asyncio.sleep(5)
        base = live.server.url
        async with live.server.pool.acquire() as conn:
            # The frail resident's home: carers every day, so the day shows their visits too.
            home = await conn.fetchval("SELECT id FROM homes WHERE name LIKE 'Sim home 2 %'")

        coordinator = await logged_in(browser, base, COORDINATOR, viewport=DESKTOP)
        await coordinator.goto("/console/board")
        await expect(coordinator.locator("#live-status")).to_have_text("Live", timeout=10_000)
        await _press_pendant(live, "Sim home 2 %")
        await expect(coordinator.locator("#open-alerts li.card")).not_to_have_count(0, timeout=10_000)
        await coordinator.screenshot(path=str(out / "board.png"), full_page=True)

        # Yesterday: a whole day, whatever time of day the test runs.
        yesterday = (datetime.now(UTC) - timedelta(days=1)).date()
        await coordinator.goto(f"/console/homes/{home}?day={yesterday.isoformat()}")
        timeline = coordinator.locator("figure.timeline")
        assert await timeline.locator(".seg.act").count() > 0, "no activity drawn for the day"
        assert await timeline.locator(".seg.bed").count() > 0, "no night in bed drawn for the day"
        assert await timeline.locator(".seg.visit").count() > 0, "no carer visit drawn for the day"
        assert await coordinator.locator(".heatmap td.l4").count() > 0, "no busy hour in 28 days"
        await expect(coordinator.locator("#temps-chart canvas")).to_have_count(1)
        await coordinator.screenshot(path=str(out / "home-day.png"), full_page=True)

        family = await logged_in(browser, base, FAMILY, viewport=PHONE)
        await expect(family.get_by_role("heading", name="all right?")).to_be_visible()
        width = await family.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"the family view is {width} px wide at a 360 px screen"
        await family.screenshot(path=str(out / "family-phone.png"), full_page=True)
