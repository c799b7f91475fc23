"""The console in a real browser (Debian's chromium through Playwright) against the live system: a pendant
press over MQTT reaches the coordinator's board without a reload, its acknowledgement reaches the family's
view, another home's address is a plain 404 page, a form without its CSRF token is refused, and a carer
checks in from the carer view with the phone's location."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import orjson
import pytest
from playwright.async_api import expect

from kernel.embedded import EmbeddedMosquitto
from kernel.settings import Settings
from tests.console.browser import (
    DESKTOP,
    PHONE,
    Live,
    chromium,
    live_system,
    logged_in,
    publisher,
    register_pendant,
)
from tests.console.helpers import HOME_AT, visit_now

pytestmark = pytest.mark.timeout(240)


async def _press(live: Live, pendant: object) -> float:
    """Publish a pendant press for home A now; the monotonic time it was sent."""
    home = live.server.world.a.home
    topic = f"{live.settings.mqtt_topic_root}/v1/{home}/{pendant}/alarm"
    payload = orjson.dumps({"ts": datetime.now(UTC).isoformat(), "seq": 1})
    async with publisher(live) as client:
        sent = time.monotonic()
        await client.publish(topic, payload, qos=1)
    return sent


async def test_a_pendant_press_reaches_the_board_and_its_acknowledgement_the_family(
    settings: Settings, broker: EmbeddedMosquitto
) -> None:
    async with live_system(settings, broker) as live, chromium() as browser:
        base, world = live.server.url, live.server.world
        pendant = await register_pendant(live, world.a.home)
        board = await logged_in(browser, base, "coordinator@alder.example", viewport=DESKTOP)
        await board.goto("/console/board")
        await expect(board.locator("#live-status")).to_have_text("Live", timeout=10_000)
        loaded_at = await board.evaluate("performance.timeOrigin")

        sent = await _press(live, pendant)
        card = board.locator("#open-alerts li.card", has=board.locator("h3", has_text="Alarm button pressed"))
        await expect(card).to_have_count(0)
        await expect(card.first).to_be_visible(timeout=2_000)
        assert time.monotonic() - sent < 2.0
        # Still the same document: the card came through the stream, not a reload.
        assert await board.evaluate("performance.timeOrigin") == loaded_at

        await card.first.get_by_role("button", name="Acknowledge").click()
        await expect(card.first).to_contain_text("Acknowledged by Alder coordinator")

        family = await logged_in(browser, base, "family@alder.example", viewport=PHONE)
        assert family.url.endswith(f"/console/family/{world.a.home}")
        await expect(family.get_by_role("heading", name="all right?")).to_be_visible()
        pressed = family.locator("#home-alerts li", has_text="Alarm button pressed").first
        await expect(pressed).to_contain_text("Acknowledged by Alder coordinator")


async def test_the_family_cannot_open_another_home_and_sees_a_plain_404(
    settings: Settings, broker: EmbeddedMosquitto
) -> None:
    async with live_system(settings, broker) as live, chromium() as browser:
        base, world = live.server.url, live.server.world
        family = await logged_in(browser, base, "family@alder.example", viewport=PHONE)
        for home in (world.b.home, world.a.other_home):
            for path in (f"/console/homes/{home}", f"/console/family/{home}"):
                response = await family.goto(path)
                assert response is not None and response.status == 404
                await expect(family.get_by_role("heading", name="Not found")).to_be_visible()
                assert "There is no such page." in await family.content()
                assert world.b.home.hex[:8] not in await family.inner_text("body")


async def test_a_form_posted_without_its_csrf_token_is_refused(
    settings: Settings, broker: EmbeddedMosquitto
) -> None:
    async with live_system(settings, broker) as live, chromium() as browser:
        base, world = live.server.url, live.server.world
        board = await logged_in(browser, base, "coordinator@alder.example", viewport=DESKTOP)
        await board.goto("/console/board")
        form = board.locator(f"#alert-{world.a.alert} form[action$='/acknowledge']")
        # The page's own form, with its token taken out, submitted as the browser would.
        await form.locator("input[name=csrf]").evaluate("el => el.remove()")
        await form.evaluate("f => f.removeAttribute('hx-post')")
        await board.evaluate("document.body.removeAttribute('hx-headers')")
        async with board.expect_navigation():
            await form.evaluate("f => f.submit()")
        await expect(board.get_by_role("heading", name="Refused")).to_be_visible()
        async with live.server.pool.acquire() as conn:
            status = await conn.fetchval("SELECT status FROM alerts WHERE id = $1", world.a.alert)
        assert status == "open"


async def test_a_carer_checks_in_from_the_carer_view_with_the_phones_location(
    settings: Settings, broker: EmbeddedMosquitto
) -> None:
    async with live_system(settings, broker) as live, chromium() as browser:
        base, a = live.server.url, live.server.world.a
        visit = await visit_now(live.server.pool, organisation_id=a.org, home_id=a.home, carer_id=a.carer)
        # The phone is on the doorstep: about 15 m from the home, its fix good to 10 m.
        at = {"latitude": HOME_AT[0] + 0.00013, "longitude": HOME_AT[1], "accuracy": 10}
        carer = await logged_in(
            browser, base, "carer@alder.example", viewport=PHONE, geolocation=at, permissions=["geolocation"]
        )
        assert carer.url.endswith("/console/carer")
        await expect(carer.get_by_role("heading", name="My visits today")).to_be_visible()
        width = await carer.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"the carer view is {width} px wide at a 360 px screen"

        await carer.get_by_role("button", name="Check in at Alder home 1").click()
        await carer.wait_for_url(f"**/console/carer/visits/{visit}?done=check_in")
        await expect(carer.get_by_role("status").first).to_have_text("Checked in.")
        await expect(carer.get_by_role("button", name="Check out of Alder home 1")).to_be_visible()
        async with live.server.pool.acquire() as conn:
            event = await conn.fetchrow("SELECT * FROM visit_events WHERE visit_id = $1", visit)
            status = await conn.fetchval("SELECT status FROM visits WHERE id = $1", visit)
        assert event["kind"] == "check_in" and event["method"] == "phone" and event["accepted"]
        assert (
            abs(event["latitude"] - at["latitude"]) < 1e-6
            and abs(event["longitude"] - at["longitude"]) < 1e-6
        )
        assert event["accuracy_m"] == 10 and event["distance_m"] < 30
        assert "outside_geofence" not in event["flags"] and "no_fix" not in event["flags"]
        assert status == "in_progress"

        # A task, by keyboard alone: not done, with a note.
        await carer.get_by_role("radio", name="Not done").first.check()
        await carer.get_by_label("Note").first.fill("refused her tablets")
        await carer.get_by_role("button", name="Save medication").press("Enter")
        await carer.wait_for_url("**?done=task")
        async with live.server.pool.acquire() as conn:
            task = await conn.fetchrow(
                "SELECT status, note FROM visit_tasks WHERE visit_id = $1 AND task = 'medication'", visit
            )
        assert (task["status"], task["note"]) == ("not_done", "refused her tablets")
