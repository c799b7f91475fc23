"""Who gets the visit alerts: the provider's coordinators every one; the resident's family only the
missed visit (issue 14), through GET /v1/alerts and GET /v1/alerts/{id} alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.visits.conftest import VisitsApi, make_visit
from visits import alerting


async def test_family_sees_a_missed_visit_but_not_a_late_one(vapi: VisitsApi) -> None:
    a = vapi.a
    start = datetime.now(UTC) - timedelta(hours=2)
    async with vapi.pool.acquire() as conn:
        visit = await make_visit(conn, a, start=start, carers=(a.carer,))
        for kind in ("visit_late", "visit_missed"):
            await alerting.raise_once(
                conn,
                home_id=a.home,
                kind=kind,
                subject=visit,
                at=start + timedelta(minutes=15),
                title=kind,
                explanation="",
                evidence=[],
            )
        ids = dict(await conn.fetch("SELECT kind, id FROM alerts WHERE home_id = $1", a.home))

    async def kinds(who: str) -> set[str]:
        response = await vapi.client.get("/v1/alerts", headers=a.tokens[who])
        assert response.status_code == 200, response.text
        return {item["kind"] for item in response.json()["items"]}

    assert await kinds("coordinator") == {"visit_late", "visit_missed"}
    assert await kinds("family") == {"visit_missed"}
    assert await kinds("other_family") == set()
    late, missed = (f"/v1/alerts/{ids[k]}" for k in ("visit_late", "visit_missed"))
    assert (await vapi.client.get(late, headers=a.tokens["family"])).status_code == 404
    assert (await vapi.client.get(missed, headers=a.tokens["family"])).status_code == 200
    assert (await vapi.client.get(late, headers=a.tokens["coordinator"])).status_code == 200
    acknowledge = await vapi.client.post(f"{late}/acknowledge", headers=a.tokens["family"], json={})
    assert acknowledge.status_code == 404
