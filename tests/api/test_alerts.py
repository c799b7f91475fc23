"""Alerts through the API (filters, pages, acknowledge, assign, resolve, history); readings aggregates."""

from __future__ import annotations

from datetime import timedelta

from tests.api.conftest import Api
from tests.api.world import T0, raise_alert


async def test_listing_filters_and_pages_with_an_opaque_cursor(api: Api) -> None:
    a = api.world.a
    async with api.pool.acquire() as conn:
        for n in range(5):
            await raise_alert(conn, a.home, key=f"k{n}", minutes=n + 1)
    headers = a.tokens["coordinator"]
    seen, cursor = [], None
    while True:
        params: dict[str, str | int] = {"limit": 3, "home_id": str(a.home)}
        if cursor:
            params["cursor"] = cursor
        page = (await api.client.get("/v1/alerts", params=params, headers=headers)).json()
        seen += page["items"]
        if not (cursor := page["next_cursor"]):
            break
    assert len(seen) == 6 and len({x["id"] for x in seen}) == 6
    times = [x["triggered_at"] for x in seen]
    assert times == sorted(times, reverse=True)
    since = (T0 + timedelta(minutes=3)).isoformat()
    recent = await api.client.get("/v1/alerts", params={"since": since, "status": ["open"]}, headers=headers)
    assert len(recent.json()["items"]) == 3
    bad_params: list[dict[str, str | int]] = [
        {"cursor": "not-a-cursor"},
        {"status": "lost"},
        {"limit": 201},
        {"since": "2026-01-01T00:00:00"},
    ]
    for bad_param in bad_params:
        bad = await api.client.get("/v1/alerts", params=bad_param, headers=headers)
        assert bad.status_code == 422, bad_param
        assert bad.json()["detail"]


async def test_the_hot_listing_authenticates_and_validates_as_the_other_routes_do(api: Api) -> None:
    # /v1/alerts builds its arguments itself (api.hotpath); its answers must match FastAPI's own.
    a = api.world.a
    for headers in ({}, {"Authorization": "Bearer "}, {"Authorization": "Basic abc"}, {"X-API-Key": ""}):
        anonymous = await api.client.get("/v1/alerts", headers=headers)
        assert anonymous.status_code == 401, headers
        assert anonymous.headers["content-type"] == "application/problem+json"
    too_big = await api.client.get("/v1/alerts", params={"limit": 201}, headers=a.tokens["coordinator"])
    assert too_big.json()["detail"].startswith("query.limit: ")
    assert too_big.json()["errors"][0]["loc"] == ["query", "limit"]
    both = {"status": ["open", "acknowledged"], "kind": ["inactivity"] * 20}
    for role in ("coordinator", "integration"):
        listed = await api.client.get("/v1/alerts", params=both, headers=a.tokens[role])
        assert listed.status_code == 200, role
        assert {x["organisation_id"] for x in listed.json()["items"]} <= {str(a.org)}
    too_many = await api.client.get(
        "/v1/alerts", params={"kind": ["inactivity"] * 21}, headers=a.tokens["coordinator"]
    )
    assert too_many.status_code == 422


async def test_a_filter_on_a_kind_that_does_not_exist_is_refused_by_name(api: Api) -> None:
    # A typo would otherwise list nothing, which reads as "no alerts" (schemathesis sent kind=false).
    a = api.world.a
    headers = a.tokens["coordinator"]
    for kinds in (["false"], ["inactivity", "inactivty", "fall"]):
        refused = await api.client.get("/v1/alerts", params={"kind": kinds}, headers=headers)
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
    assert "'inactivty'" in refused.json()["detail"] and "'fall'" not in refused.json()["detail"]
    known = await api.client.get("/v1/alerts", params={"kind": ["inactivity", "fall"]}, headers=headers)
    assert known.status_code == 200, known.text


async def test_acknowledge_assign_resolve_and_the_history_of_who_did_what(api: Api) -> None:
    a = api.world.a
    alert = f"/v1/alerts/{a.alert}"
    acked = await api.client.post(
        f"{alert}/acknowledge", json={"note": "on my way"}, headers=a.tokens["carer"]
    )
    assert acked.status_code == 200 and acked.json()["status"] == "acknowledged"
    assigned = await api.client.post(
        f"{alert}/assign", json={"assignee": str(a.carer)}, headers=a.tokens["coordinator"]
    )
    assert assigned.json()["assigned_to"] == str(a.carer)
    family_member = await api.client.post(
        f"{alert}/assign", json={"assignee": str(a.family)}, headers=a.tokens["coordinator"]
    )
    assert family_member.status_code == 422
    resolved = await api.client.post(
        f"{alert}/resolve", json={"note": "all well", "false_alarm": True}, headers=a.tokens["family"]
    )
    body = resolved.json()
    assert body["status"] == "resolved" and body["resolution"] == "false_alarm"
    assert body["resolution_note"] == "all well" and body["resolved_by"] == str(a.family)
    again = await api.client.post(f"{alert}/resolve", json={"note": "again"}, headers=a.tokens["coordinator"])
    assert again.status_code == 409
    history = (await api.client.get(f"{alert}/history", headers=a.tokens["family"])).json()
    assert [(e["action"], e["actor_id"]) for e in history] == [
        ("raised", None),
        ("acknowledged", str(a.carer)),
        ("assigned", str(a.coordinator)),
        ("resolved", str(a.family)),
    ]
    assert history[1]["detail"] == {"note": "on my way"}
    empty = await api.client.post(f"{alert}/resolve", json={"note": " "}, headers=a.tokens["coordinator"])
    assert empty.status_code == 422


async def test_readings_aggregate_per_device_or_room_by_hour_or_day(api: Api) -> None:
    a = api.world.a
    async with api.pool.acquire() as conn:
        await conn.executemany(
            """
            INSERT INTO readings_hourly
                (bucket, home_id, device_id, kind, n, active, value_avg, value_min, value_max)
            VALUES ($1, $2, $3, 'temperature', $4, 0, $5, $5, $5)
            """,
            [(T0 + timedelta(hours=h), a.home, a.device, 2, 18.0 + h) for h in range(3)],
        )
    params = {"start": T0.isoformat(), "end": (T0 + timedelta(days=1)).isoformat()}
    hourly = await api.client.get(
        f"/v1/homes/{a.home}/readings/aggregates", params=params, headers=a.tokens["family"]
    )
    assert hourly.status_code == 200, hourly.text
    assert [(i["n"], i["value_avg"]) for i in hourly.json()["items"]] == [(2, 18.0), (2, 19.0), (2, 20.0)]
    daily = await api.client.get(
        f"/v1/homes/{a.home}/readings/aggregates",
        params=params | {"bucket": "day", "group": "room"},
        headers=a.tokens["family"],
    )
    [day] = daily.json()["items"]
    assert (day["room"], day["n"], day["value_avg"], day["value_min"], day["value_max"]) == (
        "bedroom",
        6,
        19.0,
        18.0,
        20.0,
    )
    too_long = await api.client.get(
        f"/v1/homes/{a.home}/readings/aggregates",
        params={"start": T0.isoformat(), "end": (T0 + timedelta(days=40)).isoformat()},
        headers=a.tokens["family"],
    )
    assert too_long.status_code == 422
