"""Every console page passes axe-core's WCAG 2.1 A and AA rules (contrast, labels, names, landmarks) in
Debian's chromium, on a desktop for the coordinator and at a phone's 360 px for the family and the carer.

axe-core is a development dependency of console/package.json, injected by the test only: the console
never serves it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page

from kernel.embedded import EmbeddedMosquitto
from kernel.settings import Settings
from tests.console.browser import DESKTOP, PHONE, chromium, live_system, logged_in
from tests.console.helpers import visit_now

pytestmark = pytest.mark.timeout(240)
AXE = Path(__file__).resolve().parents[2] / "console" / "node_modules" / "axe-core" / "axe.min.js"
RULES = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


async def _violations(page: Page, path: str) -> list[str]:
    """axe's WCAG 2.1 AA violations on the page at `path`, one line each (rule, impact, where)."""
    response = await page.goto(path)
    assert response is not None and response.status in (200, 404), f"{path}: {response}"
    await page.wait_for_load_state("networkidle")
    await page.add_script_tag(path=str(AXE))
    result: dict[str, Any] = await page.evaluate(
        "async (tags) => { const r = await axe.run(document, {runOnly: {type: 'tag', values: tags}});"
        " return {passes: r.passes.map(p => p.id), violations: r.violations}; }",
        RULES,
    )
    # The contrast rule passing is the sign axe saw the rendered page (it is inapplicable to none).
    assert "color-contrast" in result["passes"], f"{path}: axe checked no text"
    found: list[dict[str, Any]] = result["violations"]
    return [
        f"{path}: {v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes'][:3]]}"
        for v in found
    ]


async def test_every_page_meets_wcag_2_1_aa(settings: Settings, broker: EmbeddedMosquitto) -> None:
    if not AXE.is_file():
        pytest.fail(f"no {AXE}: `make console-assets` installs axe-core with the console's libraries")
    async with live_system(settings, broker) as live, chromium() as browser:
        base, a = live.server.url, live.server.world.a
        visit = await visit_now(live.server.pool, organisation_id=a.org, home_id=a.home, carer_id=a.carer)
        problems: list[str] = []

        anonymous = await (await browser.new_context(base_url=base, bypass_csp=True)).new_page()
        problems += await _violations(anonymous, "/console/login")

        coordinator = await logged_in(
            browser, base, "coordinator@alder.example", viewport=DESKTOP, bypass_csp=True
        )
        for path in (
            "/console/board",
            "/console/homes",
            f"/console/homes/{a.home}",
            f"/console/alerts/{a.alert}",
            "/console/visits",
            "/console/settings",
            "/console/no-such-page",
        ):
            problems += await _violations(coordinator, path)

        family = await logged_in(browser, base, "family@alder.example", viewport=PHONE, bypass_csp=True)
        for path in (f"/console/family/{a.home}", "/console/settings"):
            problems += await _violations(family, path)

        carer = await logged_in(browser, base, "carer@alder.example", viewport=PHONE, bypass_csp=True)
        for path in ("/console/carer", f"/console/carer/visits/{visit}"):
            problems += await _violations(carer, path)

        assert not problems, "\n".join(problems)
