"""Visits in the console: the coordinator's board of today with live status and verdicts, a home's
timeline with its visits shaded, the family's list of the visits that happened and the next one in
"is she all right?"; each seen only by the organisation's people and the home's family."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

from tests.console.conftest import Console
from tests.console.helpers import log_in, visit_now
from tests.console.test_tenancy import _is_plain_404
from visits import queries as visit_queries


async def _day_of_visits(console: Console) -> dict[str, UUID]:
    """Home A's day: a visit done and verified, one in progress, one late, one later today."""
    a = console.world.a
    made = {}
    for name, minutes in (("done", -180), ("going", -20), ("late", -40), ("later", 120)):
        made[name] = await visit_now(
            console.pool, organisation_id=a.org, home_id=a.home, carer_id=a.carer, minutes_from_now=minutes
        )
    now = datetime.now(UTC)
    async with console.pool.acquire() as conn:
        for name, kind, minutes in (
            ("done", "check_in", -178),
            ("done", "check_out", -150),
            ("going", "check_in", -18),
        ):
            await visit_queries.set_checked(
                conn, visit_id=made[name], kind=kind, at=now + timedelta(minutes=minutes), method="tag"
            )
        await visit_queries.upsert_verification(
            conn, visit_id=made["done"], verdict="verified", reasons=[], evidence={}, computed_at=now
        )
    return made


async def test_the_coordinators_board_shows_todays_visits_with_live_status_and_verdicts(
    console: Console,
) -> None:
    made = await _day_of_visits(console)
    await log_in(console.client, "coordinator@alder.example")
    board = await console.client.get("/console/visits")
    assert board.status_code == 200 and "Today's visits" in board.text
    live = await console.client.get("/console/visits/live")
    for name, words in (
        ("done", "Completed: Verified"),
        ("going", "In progress"),
        ("late", "Late"),
        ("later", "Upcoming"),
    ):
        row = live.text.split(f'id="visit-{made[name]}"')[1].split("</tr>")[0]
        assert words in row, name
    assert "1 late" in live.text and "1 in progress" in live.text

    await log_in(console.client, "coordinator@birch.example")
    other = await console.client.get("/console/visits/live")
    assert other.status_code == 200 and str(made["done"]) not in other.text
    for person in ("family@alder.example", "carer@alder.example"):
        await log_in(console.client, person)
        assert (await console.client.get("/console/visits")).status_code == 403


async def test_the_home_page_shades_the_visits_and_the_family_sees_them_and_the_next_one(
    console: Console,
) -> None:
    await _day_of_visits(console)
    a = console.world.a
    await log_in(console.client, "coordinator@alder.example")
    home = await console.client.get(f"/console/homes/{a.home}")
    assert home.text.count("seg visit verdict-") == 4
    assert "seg visit verdict-verified" in home.text and "seg visit verdict-late" in home.text

    await log_in(console.client, "family@alder.example")
    family = await console.client.get(f"/console/family/{a.home}")
    assert family.status_code == 200
    header = family.text.split("</section>")[0]
    assert "Next carer visit" in header and "today at" in header and "Alder carer" in header
    visits = family.text.split('id="visits-h"')[1].split("</section>")[0]
    assert "Completed: Verified" in visits and "28 of 30 minutes" in visits and "Late" in visits
    assert "Upcoming" not in visits  # what happened, not what is to come
    assert _is_plain_404(await console.client.get(f"/console/family/{a.other_home}"))
