"""The rostering API end to end: profiles, a roster proposed in the background, compared, accepted through
visits (audited), and nothing of it reachable from another tenant or by a carer."""

from __future__ import annotations

import asyncio
from typing import Any

from accounts import service as accounts
from accounts.tenancy import Role
from tests.api.conftest import Api, api
from tests.api.world import T0

__all__ = ["api"]
HOURS = {"1": [["07:00", "17:00"]]}  # the world's visits are on Monday 2 November 2026, 09:00 UTC


async def _setup(api: Api) -> dict[str, Any]:
    a = api.world.a
    coord = a.tokens["coordinator"]
    async with api.pool.acquire() as conn:
        where = "UPDATE homes SET latitude = $2, longitude = $3 WHERE id = $1"
        await conn.execute(where, a.home, 52.2053, 0.1218)
        await conn.execute(where, a.other_home, 52.2153, 0.1318)
        second = await accounts.create_user(
            conn, email="carer2@alder.example", name="Alder carer 2", role=Role.CARER, organisation_id=a.org
        )
    for carer, lat in ((a.carer, 52.20), (second.id, 52.21)):
        body = {"home_latitude": lat, "home_longitude": 0.12, "working_hours": HOURS}
        response = await api.client.put(f"/v1/users/{carer}/carer-profile", json=body, headers=coord)
        assert response.status_code == 200, response.text
    return {"coord": coord, "second": second.id}


async def _propose(api: Api, headers: dict[str, str], **weights: float) -> dict[str, Any]:
    day = T0.date().isoformat()
    body = {"start": day, "end": day, "time_limit_s": 1, "weights": weights}
    path = f"/v1/organisations/{api.world.a.org}/rosters"
    response = await api.client.post(path, json=body, headers=headers)
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "running"
    roster_id = response.json()["id"]
    async with asyncio.timeout(60):
        while True:
            got: dict[str, Any] = (await api.client.get(f"/v1/rosters/{roster_id}", headers=headers)).json()
            if got["status"] != "running":
                return got
            await asyncio.sleep(0.2)


async def test_a_roster_is_proposed_compared_and_accepted_through_visits(api: Api) -> None:
    ctx = await _setup(api)
    a, coord = api.world.a, ctx["coord"]
    roster = await _propose(api, coord)
    assert roster["status"] == "ready", roster
    assert roster["figures"]["visits"] == 2 and roster["figures"]["covered"] == 2
    by_visit = {x["visit_id"]: x for x in roster["assignments"]}
    assert set(by_visit) == {str(a.visit), str(a.other_visit)}
    assert all(x["reasons"] for x in roster["assignments"])
    # The carer the care plan gives home 1 keeps it: continuity first.
    assert by_visit[str(a.visit)]["carer_ids"] == [str(a.carer)]
    assert {r["carer_id"] for r in roster["rounds"]} == {str(a.carer), str(ctx["second"])}

    other = await _propose(api, coord, new_carer=0.0)
    compared = await api.client.get(f"/v1/rosters/{roster['id']}/compare?other={other['id']}", headers=coord)
    assert compared.status_code == 200, compared.text
    assert "travel_h" in compared.json()["figures"]

    accepted = await api.client.post(f"/v1/rosters/{roster['id']}/accept", headers=coord)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "accepted"
    again = await api.client.post(f"/v1/rosters/{roster['id']}/accept", headers=coord)
    assert again.status_code == 409
    visit = (await api.client.get(f"/v1/visits/{a.other_visit}", headers=coord)).json()
    assert [c["id"] for c in visit["carers"]] == by_visit[str(a.other_visit)]["carer_ids"]
    async with api.pool.acquire() as conn:
        actions = {r["action"] for r in await conn.fetch("SELECT action FROM audit_log")}
    assert {"roster.propose", "roster.accept", "carer_profile.set"} <= actions


async def test_rosters_are_the_coordinators_of_their_organisation_only(api: Api) -> None:
    ctx = await _setup(api)
    a, b = api.world.a, api.world.b
    roster = await _propose(api, ctx["coord"])
    missing = "00000000-0000-4000-8000-000000000000"
    for headers in (b.tokens["coordinator"], b.tokens["carer"], a.tokens["carer"], a.tokens["family"]):
        for method, path in (
            ("GET", f"/v1/rosters/{roster['id']}"),
            ("POST", f"/v1/rosters/{roster['id']}/accept"),
            ("GET", f"/v1/rosters/{roster['id']}/compare?other={roster['id']}"),
            ("POST", f"/v1/rosters/{roster['id']}/replan"),
        ):
            body = {"carer_id": str(a.carer), "at": "2026-11-02T07:00:00Z"} if "replan" in path else None
            theirs = await api.client.request(method, path, headers=headers, json=body)
            nothing = await api.client.request(
                method, path.replace(roster["id"], missing), headers=headers, json=body
            )
            assert theirs.status_code == nothing.status_code == 404, (method, path, theirs.text)
    # Comparing one's own roster with another tenant's answers as comparing with a missing one.
    own = ctx["coord"]
    foreign = await api.client.get(f"/v1/rosters/{roster['id']}/compare?other={b.roster}", headers=own)
    assert foreign.status_code == 404
    refused = await api.client.post(
        f"/v1/organisations/{a.org}/rosters",
        json={"start": "2026-11-02", "end": "2026-11-02"},
        headers=a.tokens["carer"],
    )
    assert refused.status_code == 403
    bad = await api.client.post(
        f"/v1/organisations/{a.org}/rosters", json={"start": "2026-11-03", "end": "2026-11-02"}, headers=own
    )
    assert bad.status_code == 422 and "before start" in bad.text


async def test_a_carer_off_sick_is_replanned_as_a_new_roster_saying_what_changed(api: Api) -> None:
    ctx = await _setup(api)
    a, coord = api.world.a, ctx["coord"]
    roster = await _propose(api, coord)
    assert roster["status"] == "ready", roster
    held = {x["visit_id"] for x in roster["assignments"] if str(a.carer) in x["carer_ids"]}
    assert held, roster["assignments"]
    body = {"carer_id": str(a.carer), "at": T0.replace(hour=7).isoformat(), "time_limit_s": 1}
    response = await api.client.post(f"/v1/rosters/{roster['id']}/replan", json=body, headers=coord)
    assert response.status_code == 201, response.text
    out = response.json()
    assert out["based_on"] == roster["id"] and out["roster"]["id"] != roster["id"]
    assert set(out["moved"]) == held
    assert out["summary"].startswith(f"{len(held)} visit(s) moved")
    new = out["roster"]
    assert new["status"] == "ready"
    # The absent carer has nothing left after 07:00; the visits went to the other carer, and the change
    # lists exactly those visits: removed from the absent carer's round, added to the other's.
    assert all(str(a.carer) not in x["carer_ids"] for x in new["assignments"])
    assert {x["visit_id"] for x in new["assignments"]} == {x["visit_id"] for x in roster["assignments"]}
    changes = {c["carer_id"]: c for c in out["changes"]}
    assert set(changes[str(a.carer)]["removed"]) == held
    assert set(changes[str(ctx["second"])]["added"]) == held
    stored = (await api.client.get(f"/v1/rosters/{new['id']}", headers=coord)).json()
    assert stored["figures"]["covered"] == new["figures"]["covered"]
    async with api.pool.acquire() as conn:
        actions = {r["action"] for r in await conn.fetch("SELECT action FROM audit_log")}
    assert "roster.replan" in actions
    late = {"carer_id": str(a.carer), "at": "2026-11-09T07:00:00Z"}
    outside = await api.client.post(f"/v1/rosters/{roster['id']}/replan", json=late, headers=coord)
    assert outside.status_code == 422 and "outside" in outside.text
