"""Today's board in pages: every visit of the day exactly once across the pages, in planned order, in
BoardOut's shape; the counts (first page only) are views.live_status over the whole day; a home far away
on another local date shows its own today."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from tests.visits.conftest import VisitsApi, make_visit
from visits.schemas import BoardOut
from visits.views import live_status


async def test_the_board_pages_through_the_day_in_planned_order(vapi: VisitsApi) -> None:
    a = vapi.a
    now = datetime.now(UTC)
    today = now.astimezone(ZoneInfo("Europe/London")).date()
    start = datetime(today.year, today.month, today.day, 7, tzinfo=ZoneInfo("Europe/London"))
    async with vapi.pool.acquire() as conn:
        made = [
            await make_visit(conn, a, start=start + timedelta(minutes=40 * n), carers=(a.carer,))
            for n in range(7)
        ]
        # Another day's visit, and another provider's, are not on it.
        await make_visit(conn, a, start=start - timedelta(days=1))
        await make_visit(conn, vapi.b, start=start)
        await conn.execute("UPDATE visits SET status = 'missed' WHERE id = $1", made[0])
    url = f"/v1/organisations/{a.org}/visits/board"
    headers = a.tokens["coordinator"]
    seen, cursor, pages = [], None, []
    while True:
        params = {"limit": "3"} | ({"cursor": cursor} if cursor else {})
        response = await vapi.client.get(url, params=params, headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()
        again = BoardOut.model_validate(page).model_dump(mode="json", by_alias=True)
        for x, y in zip(again["visits"], page["visits"], strict=True):
            assert {k: v for k, v in x.items() if v != y[k]} == {}, y
        assert again == page
        pages.append(page)
        seen += [v["id"] for v in page["visits"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [str(v) for v in made]
    assert [len(p["visits"]) for p in pages] == [3, 3, 1]
    assert [p["counts"] is None for p in pages] == [False, True, True]
    whole = await vapi.client.get(url, params={"limit": "200"}, headers=headers)
    expected: dict[str, int] = {}
    for visit in whole.json()["visits"]:
        row = {k: visit[k] for k in ("status",)} | {
            k: datetime.fromisoformat(visit[k]) for k in ("planned_start", "planned_end")
        }
        status = live_status(row, datetime.now(UTC), timedelta(minutes=15))
        expected[status] = expected.get(status, 0) + 1
    assert pages[0]["counts"] == expected
    bad = await vapi.client.get(url, params={"cursor": "nonsense"}, headers=headers)
    assert bad.status_code == 422
    assert (await vapi.client.get(url, params={"limit": "0"}, headers=headers)).status_code == 422
    yesterday = await vapi.client.get(
        url, params={"date": (today - timedelta(days=1)).isoformat()}, headers=headers
    )
    assert [v["local_date"] for v in yesterday.json()["visits"]] == [(today - timedelta(days=1)).isoformat()]
    assert (await vapi.client.get(url, params={"date": "soon"}, headers=headers)).status_code == 422
    path = "/v1/organisations/not-a-uuid/visits/board"
    assert (await vapi.client.get(path, headers=headers)).status_code == 422


async def test_a_home_on_another_local_date_shows_its_own_today(vapi: VisitsApi) -> None:
    a = vapi.a
    sydney = ZoneInfo("Australia/Sydney")
    now = datetime.now(UTC)
    async with vapi.pool.acquire() as conn:
        await conn.execute("UPDATE homes SET timezone = 'Australia/Sydney' WHERE id = $1", a.other_home)
        dates = await conn.fetch(
            "SELECT DISTINCT (now() AT TIME ZONE timezone)::date FROM homes WHERE organisation_id = $1",
            a.org,
        )
        london_today = now.astimezone(ZoneInfo("Europe/London")).date()
        sydney_today = now.astimezone(sydney).date()
        here = await make_visit(conn, a, start=now + timedelta(hours=1))
        await conn.execute("UPDATE visits SET local_date = $2 WHERE id = $1", here, london_today)
        there = await make_visit(conn, a, start=now + timedelta(hours=2), home=a.other_home)
        await conn.execute("UPDATE visits SET local_date = $2 WHERE id = $1", there, sydney_today)
        # The Sydney home's visit on London's date is not its today (unless the dates agree).
        stray = await make_visit(conn, a, start=now + timedelta(hours=3), home=a.other_home)
        await conn.execute("UPDATE visits SET local_date = $2 WHERE id = $1", stray, london_today)
    response = await vapi.client.get(
        f"/v1/organisations/{a.org}/visits/board", headers=a.tokens["coordinator"]
    )
    ids = {v["id"] for v in response.json()["visits"]}
    assert {str(here), str(there)} <= ids
    assert (str(stray) in ids) == (london_today == sydney_today) == (len(dates) == 1)
    # The counts are of the same visits: each home's own today, the stray one left out too.
    assert sum(response.json()["counts"].values()) == len(ids)
