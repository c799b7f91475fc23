"""Visit reports through the API: an organisation's by home and carer, a home's as CSV, a carer's own."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

from tests.api.conftest import Api
from tests.visits.fixtures import Home, check, make_visit

# After the tenancy world's own visits (2 November), so the range holds only this test's.
START = datetime(2026, 11, 10, 8, tzinfo=UTC)
RANGE = "since=2026-11-05&until=2026-12-01"


async def _visits(api: Api) -> None:
    a = api.world.a
    async with api.pool.acquire() as conn:
        org_home = Home(a.org, a.home, a.device, a.device, a.device)
        for day, late in ((0, 2), (1, 25), (2, None)):
            visit = await make_visit(conn, org_home, START + timedelta(days=day))
            await conn.execute(
                "INSERT INTO visit_assignments (visit_id, carer_id) VALUES ($1, $2)", visit, a.carer
            )
            if late is None:
                await conn.execute("UPDATE visits SET status = 'missed' WHERE id = $1", visit)
                continue
            at = START + timedelta(days=day, minutes=late)
            await check(conn, org_home, visit, "check_in", at, "tag", carer_id=a.carer)
            await check(
                conn, org_home, visit, "check_out", at + timedelta(minutes=30), "tag", carer_id=a.carer
            )


async def test_organisation_report_by_home_and_carer(api: Api) -> None:
    await _visits(api)
    a = api.world.a
    headers = a.tokens["coordinator"]
    response = await api.client.get(
        f"/v1/organisations/{a.org}/visit-report?{RANGE}&by=home", headers=headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["since"] == "2026-11-05" and body["group"] == "home"
    [line] = body["lines"]
    assert (line["planned"], line["delivered"], line["missed"], line["late"]) == (3, 2, 1, 1)
    assert line["punctuality"] == 0.5 and line["minutes_delivered"] == 60.0
    assert line["continuity"] == 1.0 and line["logging_compliance"] == 1.0
    carers = await api.client.get(f"/v1/organisations/{a.org}/visit-report?{RANGE}&by=carer", headers=headers)
    [carer] = carers.json()["lines"]
    assert carer["id"] == str(a.carer) and carer["delivered"] == 2


async def test_home_report_as_csv_and_a_carers_own(api: Api) -> None:
    await _visits(api)
    a = api.world.a
    response = await api.client.get(
        f"/v1/homes/{a.home}/visit-report?{RANGE}&format=csv", headers=a.tokens["coordinator"]
    )
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    [row] = list(csv.DictReader(io.StringIO(response.text)))
    assert row["planned"] == "3" and row["missed"] == "1"
    own = await api.client.get(f"/v1/carers/{a.carer}/visit-report?{RANGE}", headers=a.tokens["carer"])
    assert own.status_code == 200 and own.json()["lines"][0]["planned"] == 3
    # A family member may not read the carer's report; nobody may ask for more than a year.
    family = await api.client.get(f"/v1/carers/{a.carer}/visit-report?{RANGE}", headers=a.tokens["family"])
    assert family.status_code in (403, 404)
    long = await api.client.get(
        f"/v1/organisations/{a.org}/visit-report?since=2025-01-01&until={date(2026, 12, 1)}",
        headers=a.tokens["coordinator"],
    )
    assert long.status_code == 422 and "at most 366 days" in long.text
