"""The carer's view in the console: my visits today, check in and out with the phone's location (judged
by the visits service against the geofence), tasks with a note; another carer's visit, for reading and
for the check-in POST alike, is the plain 404 page."""

from __future__ import annotations

from tests.console.conftest import Console
from tests.console.helpers import HOME_AT, csrf_of, give_passwords, log_in, visit_now
from tests.console.test_tenancy import _is_plain_404


async def _today(console: Console) -> object:
    a = console.world.a
    return await visit_now(console.pool, organisation_id=a.org, home_id=a.home, carer_id=a.carer)


async def test_a_carer_checks_in_tasks_and_checks_out_with_the_phones_location(console: Console) -> None:
    visit = await _today(console)
    await log_in(console.client, "carer@alder.example")
    day = await console.client.get("/console/carer")
    assert day.status_code == 200 and "My visits today" in day.text
    assert "Alder home 1" in day.text and f"/console/carer/visits/{visit}/check-in" in day.text
    token = csrf_of(day.text)
    # About 20 m north of the home, the fix good to 12 m: inside the 150 m geofence.
    fix = {"latitude": str(HOME_AT[0] + 0.0002), "longitude": str(HOME_AT[1]), "accuracy_m": "12"}
    done = await console.client.post(f"/console/carer/visits/{visit}/check-in", data={"csrf": token, **fix})
    assert done.status_code == 303 and done.headers["location"].endswith(f"/{visit}?done=check_in")
    async with console.pool.acquire() as conn:
        event = await conn.fetchrow("SELECT * FROM visit_events WHERE visit_id = $1", visit)
        status = await conn.fetchval("SELECT status FROM visits WHERE id = $1", visit)
    assert event["method"] == "phone" and event["kind"] == "check_in" and event["accepted"]
    assert abs(event["latitude"] - HOME_AT[0] - 0.0002) < 1e-9 and event["distance_m"] < 30
    assert "outside_geofence" not in event["flags"] and status == "in_progress"

    page = await console.client.get(f"/console/carer/visits/{visit}?done=check_in")
    assert "Checked in." in page.text and "Check out" in page.text
    saved = await console.client.post(
        f"/console/carer/visits/{visit}/tasks",
        data={"csrf": token, "task": "medication", "status": "not_done", "note": "refused her tablets"},
    )
    assert saved.status_code == 303
    out = await console.client.post(f"/console/carer/visits/{visit}/check-out", data={"csrf": token, **fix})
    assert out.status_code == 303
    async with console.pool.acquire() as conn:
        task = await conn.fetchrow(
            "SELECT status, note FROM visit_tasks WHERE visit_id = $1 AND task = 'medication'", visit
        )
        status = await conn.fetchval("SELECT status FROM visits WHERE id = $1", visit)
        audit = await conn.fetchval(
            "SELECT count(*) FROM audit_log WHERE target_id = $1 AND action LIKE 'visit.%'", str(visit)
        )
    assert (task["status"], task["note"]) == ("not_done", "refused her tablets")
    assert status == "completed" and audit == 3


async def test_a_check_in_from_far_away_is_recorded_and_flagged(console: Console) -> None:
    visit = await _today(console)
    await log_in(console.client, "carer@alder.example")
    token = csrf_of((await console.client.get("/console/carer")).text)
    far = {"latitude": str(HOME_AT[0] + 0.01), "longitude": str(HOME_AT[1]), "accuracy_m": "10"}
    await console.client.post(f"/console/carer/visits/{visit}/check-in", data={"csrf": token, **far})
    async with console.pool.acquire() as conn:
        flags = await conn.fetchval("SELECT flags FROM visit_events WHERE visit_id = $1", visit)
    assert "outside_geofence" in flags


async def test_another_carers_visit_is_the_plain_404_page_for_reading_and_checking_in(
    console: Console,
) -> None:
    a, b = console.world.a, console.world.b
    mine = await _today(console)
    nobodys = await visit_now(console.pool, organisation_id=a.org, home_id=a.home, carer_id=None)
    theirs = await visit_now(console.pool, organisation_id=b.org, home_id=b.home, carer_id=b.carer)
    await give_passwords(console.pool, b.carer)
    await log_in(console.client, "carer@alder.example")
    token = csrf_of((await console.client.get("/console/carer")).text)
    for visit in (nobodys, theirs, a.other_visit):
        assert _is_plain_404(await console.client.get(f"/console/carer/visits/{visit}")), visit
        for action in ("check-in", "check-out", "tasks"):
            response = await console.client.post(
                f"/console/carer/visits/{visit}/{action}",
                data={"csrf": token, "task": "medication", "status": "done"},
            )
            assert _is_plain_404(response), (visit, action)
    async with console.pool.acquire() as conn:
        events = await conn.fetchval("SELECT count(*) FROM visit_events")
    assert events == 0
    assert (await console.client.get(f"/console/carer/visits/{mine}")).status_code == 200


async def test_the_check_in_needs_its_csrf_token_and_the_carer_view_is_for_carers(console: Console) -> None:
    visit = await _today(console)
    await log_in(console.client, "carer@alder.example")
    refused = await console.client.post(f"/console/carer/visits/{visit}/check-in", data={"latitude": "51"})
    assert refused.status_code == 403 and "Refused" in refused.text
    await log_in(console.client, "family@alder.example")
    assert (await console.client.get(f"/console/carer/visits/{visit}")).status_code == 403
    async with console.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM visit_events") == 0
