"""Nobody sees or changes another home through the console: the wrong door is the plain 404 page."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.api.world import T0, raise_alert
from tests.console.conftest import Console
from tests.console.helpers import csrf_of, log_in


def _is_plain_404(response: object) -> bool:
    status = getattr(response, "status_code", 0)
    text = getattr(response, "text", "")
    return status == 404 and "<h1>Not found</h1>" in text and "problem+json" not in text


async def test_another_providers_coordinator_sees_nothing_of_a_home_and_changes_nothing(
    console: Console,
) -> None:
    a = console.world.a
    await log_in(console.client, "coordinator@birch.example")
    token = csrf_of((await console.client.get("/console/board")).text)
    for path in (
        f"/console/homes/{a.home}",
        f"/console/homes/{a.home}/alerts",
        f"/console/family/{a.home}",
        f"/console/alerts/{a.alert}",
        f"/console/stream?home_id={a.home}",
    ):
        response = await console.client.get(path)
        assert _is_plain_404(response), path
        assert str(a.home) not in response.text
    for action in ("acknowledge", "assign", "resolve"):
        response = await console.client.post(f"/console/alerts/{a.alert}/{action}", data={"csrf": token})
        assert _is_plain_404(response), action
    board = await console.client.get("/console/board")
    assert "Alder" not in board.text and "Birch home 1" in board.text
    async with console.pool.acquire() as conn:
        assert await conn.fetchval("SELECT status FROM alerts WHERE id = $1", a.alert) == "open"


async def test_a_family_member_sees_their_home_only(console: Console) -> None:
    a = console.world.a
    landing = await log_in(console.client, "family@alder.example")
    assert landing.status_code == 303
    home = await console.client.get("/console/family", follow_redirects=True)
    assert home.status_code == 200 and "all right?" in home.text
    assert str(home.url).endswith(f"/console/family/{a.home}")
    for path in (
        f"/console/homes/{a.other_home}",
        f"/console/family/{a.other_home}",
        f"/console/alerts/{a.other_alert}",
        f"/console/homes/{console.world.b.home}",
    ):
        assert _is_plain_404(await console.client.get(path)), path
    assert (await console.client.get("/console/board")).status_code == 403
    assert (await console.client.get("/console/carer")).status_code == 403
    assert (await console.client.get(f"/console/alerts/{a.alert}")).status_code == 200


async def test_a_family_member_sees_a_missed_visit_but_not_the_providers_late_one(
    console: Console,
) -> None:
    a = console.world.a
    ago = int((datetime.now(UTC) - T0).total_seconds() // 60) - 30  # half an hour ago
    async with console.pool.acquire() as conn:
        late = await raise_alert(conn, a.home, key="late", kind="visit_late", minutes=ago)
        missed = await raise_alert(conn, a.home, key="missed", kind="visit_missed", minutes=ago)
    await log_in(console.client, "family@alder.example")
    token = csrf_of((await console.client.get(f"/console/family/{a.home}")).text)
    for path in (f"/console/family/{a.home}", f"/console/homes/{a.home}", f"/console/homes/{a.home}/alerts"):
        page = await console.client.get(path)
        assert page.status_code == 200, path
        assert f"alert-{missed}" in page.text and f"alert-{late}" not in page.text, path
    assert _is_plain_404(await console.client.get(f"/console/alerts/{late}"))
    assert (await console.client.get(f"/console/alerts/{missed}")).status_code == 200
    refused = await console.client.post(f"/console/alerts/{late}/acknowledge", data={"csrf": token})
    assert _is_plain_404(refused)


async def test_a_carer_sees_the_homes_they_are_assigned_to(console: Console) -> None:
    a = console.world.a
    await log_in(console.client, "carer@alder.example")
    carer = await console.client.get("/console/carer")
    assert carer.status_code == 200 and "My visits today" in carer.text and "Alder home 2" not in carer.text
    assert (await console.client.get(f"/console/homes/{a.home}")).status_code == 200
    assert _is_plain_404(await console.client.get(f"/console/homes/{a.other_home}"))


async def test_odd_addresses_are_the_plain_404_page(console: Console) -> None:
    await log_in(console.client, "coordinator@alder.example")
    for path in (
        "/console/nothing-here",
        "/console/homes/not-a-uuid",
        f"/console/homes/{console.world.a.home}?day=yesterday",
        "/console/static/..%2Fsession.py",
        "/console/static/missing.css",
        "/console/vendor/package.json",
    ):
        assert _is_plain_404(await console.client.get(path)), path


async def test_the_libraries_are_served_from_the_package(console: Console) -> None:
    for path in (
        "/console/vendor/htmx.min.js",
        "/console/vendor/uPlot.iife.min.js",
        "/console/static/console.js",
    ):
        response = await console.client.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-type"].startswith("text/javascript")
    assert (
        (await console.client.get("/console/vendor/uPlot.min.css"))
        .headers["content-type"]
        .startswith("text/css")
    )
