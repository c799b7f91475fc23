"""The simulated homes' care teams (`telecare simulate --care-plans`, the demo): each tag the simulation's
carers tap is held by a carer on the visits the simulation sends them to, so their taps check them in to
their own visits and raise no alert of a wrong home; staffing twice staffs nothing twice."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import asyncpg

from devices import queries as device_queries
from devices.contract import MessageKind
from homes import queries as home_queries
from simulators.care_team import carer_email, staff_homes
from simulators.home import simulate_home
from simulators.plans import create_plans
from visits.checkins import CheckConfig
from visits.tags import tap

START = date(2026, 3, 2)


async def test_the_simulated_carers_taps_check_them_in_to_their_own_visits(pool: asyncpg.Pool) -> None:
    stream = simulate_home(seed=3, profile="frail", layout="bungalow", start=START, days=2)
    async with pool.acquire() as conn:
        org = await home_queries.insert_organisation(conn, name="Simulated homes")
        home = await home_queries.insert_home(conn, organisation_id=org, name=stream.home_name)
        reader = await device_queries.insert_device(conn, home_id=home, device_type="nfc_reader")
        made = datetime.combine(START, datetime.min.time(), UTC) - timedelta(days=1)
        await create_plans(conn, [(home, "frail")], starts_on=START, now=made, horizon_days=4)
        staffed = await staff_homes(conn, [(home, stream)], organisation_id=org)
        again = await staff_homes(conn, [(home, stream)], organisation_id=org)
        taps = [e for e in stream.events if e.kind is MessageKind.TAG and not e.duplicate]
        for n, event in enumerate(taps, start=1):
            reading = {"home_id": home, "device_id": reader, "seq": n, "time": event.at,
                       "received_at": event.at, "payload": {"tag_id": event.fields["tag_id"]}}  # fmt: skip
            await tap(conn, reading, config=CheckConfig(), now=event.at + timedelta(seconds=5))
        events = await conn.fetch("SELECT kind, flags, visit_id FROM visit_events")
        wrong = await conn.fetchval("SELECT count(*) FROM alerts WHERE kind = 'visit_wrong_home'")
        login = await conn.fetchrow(
            "SELECT role, organisation_id FROM users WHERE email = $1", carer_email(1, 1)
        )
    came = [v for v in stream.visits if not v.missed]
    assert staffed == len(stream.visits) and again == 0
    assert taps and len(events) == len(taps)
    assert all(e["visit_id"] is not None for e in events), [e["flags"] for e in events]
    assert not any({"wrong_home", "unknown_tag"} & set(e["flags"]) for e in events)
    assert sum(e["kind"] == "check_in" for e in events) >= len(came)
    assert wrong == 0
    assert login is not None and (login["role"], login["organisation_id"]) == ("carer", org)
