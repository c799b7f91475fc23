"""The visits API by role: a provider sets up a plan and reads the board and log; carers check in to their
own visits only; a family member sees their relative's visits and nothing of other homes."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from visits import queries

from .conftest import HOME_AT, VisitsApi, make_visit


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


async def test_a_coordinator_sets_up_a_plan_and_sees_it_on_the_board(vapi: VisitsApi) -> None:
    a = vapi.a
    today = _now().date()
    body = {
        "name": "Daily support",
        "starts_on": today.isoformat(),
        "visits": [
            {
                "label": "morning",
                "weekdays": [1, 2, 3, 4, 5, 6, 7],
                "start_time": "23:59",
                "planned_minutes": 30,
                "tasks": ["medication"],
                "carer_ids": [str(a.carer)],
            }
        ],
    }
    response = await vapi.client.post(
        f"/v1/homes/{a.home}/care-plans", json=body, headers=a.tokens["coordinator"]
    )
    assert response.status_code == 201, response.text
    plan = response.json()
    assert plan["rules"]["late_after_minutes"] == 15 and plan["visits"][0]["start_time"] == "23:59:00"
    board = await vapi.client.get(f"/v1/organisations/{a.org}/visits/board", headers=a.tokens["coordinator"])
    assert board.status_code == 200, board.text
    assert all(v["home_id"] == str(a.home) for v in board.json()["visits"])
    async with vapi.pool.acquire() as conn:
        audit = await conn.fetchval("SELECT count(*) FROM audit_log WHERE action = 'care_plan.create'")
    assert audit == 1
    for who in ("carer", "family"):
        refused = await vapi.client.post(f"/v1/homes/{a.home}/care-plans", json=body, headers=a.tokens[who])
        assert refused.status_code == 403
    other = await vapi.client.get(
        f"/v1/organisations/{a.org}/visits/board", headers=vapi.b.tokens["coordinator"]
    )
    assert other.status_code == 404


async def test_a_carer_checks_in_by_phone_and_records_tasks(vapi: VisitsApi) -> None:
    a = vapi.a
    now = _now()
    async with vapi.pool.acquire() as conn:
        mine = await make_visit(conn, a, start=now - timedelta(minutes=5), carers=(a.carer,))
        theirs = await make_visit(conn, a, start=now - timedelta(minutes=5), carers=(a.second_carer,))
    headers = a.tokens["carer"]
    listing = await vapi.client.get("/v1/visits/mine", headers=headers)
    assert [v["id"] for v in listing.json()] == [str(mine)]
    assert listing.json()[0]["live_status"] == "due"
    fix = {"latitude": HOME_AT[0], "longitude": HOME_AT[1], "accuracy_m": 8}
    response = await vapi.client.post(f"/v1/visits/{mine}/check-in", json=fix, headers=headers)
    assert response.status_code == 201, response.text
    assert response.json()["flags"] == [] and response.json()["accepted"]
    task = await vapi.client.post(
        f"/v1/visits/{mine}/tasks",
        json={"task": "medication", "status": "not_done", "note": "refused"},
        headers=headers,
    )
    assert task.status_code == 200, task.text
    assert task.json()["tasks"][0] == {**task.json()["tasks"][0], "status": "not_done", "note": "refused"}
    assert task.json()["live_status"] == "in_progress"
    missing = await vapi.client.put(
        f"/v1/visits/{mine}/tasks/hoovering", json={"status": "done"}, headers=headers
    )
    assert missing.status_code == 404
    # Another carer's visit answers exactly as a visit that does not exist.
    for door in ("/v1/visits/{}/check-in", "/v1/visits/{}/check-out"):
        foreign = await vapi.client.post(door.format(theirs), json=fix, headers=headers)
        assert (foreign.status_code, foreign.json()["detail"]) == (404, f"visit {theirs} not found")
    assert (await vapi.client.get(f"/v1/visits/{theirs}", headers=headers)).status_code == 404
    async with vapi.pool.acquire() as conn:
        actions = [r["action"] for r in await conn.fetch("SELECT action FROM audit_log ORDER BY id")]
    assert actions == ["visit.check_in", "visit.task"]


async def test_a_family_member_sees_their_relatives_visits_only(vapi: VisitsApi) -> None:
    a = vapi.a
    now = _now()
    async with vapi.pool.acquire() as conn:
        visit = await make_visit(conn, a, start=now - timedelta(hours=2), carers=(a.carer,))
        other = await make_visit(
            conn, a, start=now - timedelta(hours=2), carers=(a.carer,), home=a.other_home
        )
        await conn.execute(
            "UPDATE visits SET status = 'completed', checked_in_at = $2, checked_out_at = $3 WHERE id = $1",
            visit,
            now - timedelta(hours=2),
            now - timedelta(hours=1, minutes=5),
        )
        await queries.upsert_verification(
            conn,
            visit_id=visit,
            verdict="verified",
            reasons=["the front door opened on arrival"],
            evidence={},
            computed_at=now,
        )
    headers = a.tokens["family"]
    response = await vapi.client.get(f"/v1/homes/{a.home}/visits", headers=headers)
    assert response.status_code == 200, response.text
    [seen] = response.json()
    assert seen == {
        **seen,
        "id": str(visit),
        "carers": ["Alder carer"],
        "minutes_delivered": 55,
        "verdict": "verified",
        "reasons": ["the front door opened on arrival"],
    }
    assert (await vapi.client.get(f"/v1/homes/{a.other_home}/visits", headers=headers)).status_code == 404
    assert (await vapi.client.get(f"/v1/visits/{other}", headers=headers)).status_code == 404
    # Their relative's visit in full (carers' check-ins and fixes) is the provider's to see.
    assert (await vapi.client.get(f"/v1/visits/{visit}", headers=headers)).status_code == 403
    assert (
        await vapi.client.get(f"/v1/organisations/{a.org}/visits/log", headers=headers)
    ).status_code == 403


async def test_the_verification_log_filters_and_exports(vapi: VisitsApi) -> None:
    a = vapi.a
    day = datetime(2026, 11, 30, 9, tzinfo=UTC)
    async with vapi.pool.acquire() as conn:
        ids = []
        for n, verdict in enumerate(("verified", "unverified", "missed")):
            visit = await make_visit(conn, a, start=day + timedelta(hours=n), carers=(a.carer,))
            await queries.upsert_verification(
                conn, visit_id=visit, verdict=verdict, reasons=[f"reason {n}"], evidence={}, computed_at=day
            )
            ids.append(str(visit))
        await make_visit(conn, vapi.b, start=day, carers=(vapi.b.carer,))
    headers = a.tokens["coordinator"]
    url = f"/v1/organisations/{a.org}/visits/log"
    page = await vapi.client.get(
        url, params={"since": "2026-11-30", "until": "2026-12-01", "limit": 2}, headers=headers
    )
    assert page.status_code == 200, page.text
    assert [i["visit_id"] for i in page.json()["items"]] == [ids[2], ids[1]]
    rest = await vapi.client.get(url, params={"cursor": page.json()["next_cursor"]}, headers=headers)
    assert [i["visit_id"] for i in rest.json()["items"]] == [ids[0]]
    only = await vapi.client.get(
        url, params={"verdict": ["unverified", "missed"], "carer_id": str(a.carer)}, headers=headers
    )
    assert {i["verdict"] for i in only.json()["items"]} == {"unverified", "missed"}
    exported = await vapi.client.get(url, params={"format": "csv", "home_id": str(a.home)}, headers=headers)
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [r["verdict"] for r in rows] == ["missed", "unverified", "verified"]
    assert rows[0]["carers"] == "Alder carer" and rows[0]["reasons"] == "reason 2"
    bad = await vapi.client.get(url, params={"since": "2026-12-01", "until": "2026-11-30"}, headers=headers)
    assert bad.status_code == 422
    foreign = await vapi.client.get(url, headers=vapi.b.tokens["coordinator"])
    assert foreign.status_code == 404
