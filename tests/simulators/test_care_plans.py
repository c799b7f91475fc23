"""`telecare simulate --care-plans`: each simulated home gets a care plan from its profile's carer slots,
its visits materialised over the horizon; a home that has a plan keeps it."""

from __future__ import annotations

from datetime import UTC, date, datetime

import asyncpg

from homes import queries as home_queries
from simulators.plans import create_plans
from simulators.profiles import get_profile


async def test_simulated_homes_get_the_plans_of_their_profiles(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        org = await home_queries.insert_organisation(conn, name="Sim org")
        frail = await home_queries.insert_home(conn, organisation_id=org, name="Frail home")
        replayed = await home_queries.insert_home(conn, organisation_id=org, name="Replayed home")
        homes = [(frail, "frail"), (replayed, "replay")]
        now = datetime(2026, 3, 2, 6, tzinfo=UTC)
        made = await create_plans(conn, homes, starts_on=date(2026, 3, 2), now=now, horizon_days=14)
        again = await create_plans(conn, homes, starts_on=date(2026, 3, 2), now=now, horizon_days=14)
        plans = await conn.fetch("SELECT home_id, name FROM care_plans")
        labels = await conn.fetch("SELECT label FROM care_plan_visits")
        visits = await conn.fetchval("SELECT count(*) FROM visits WHERE home_id = $1", frail)
    assert (made, again) == (1, 0)
    assert [p["home_id"] for p in plans] == [frail]
    assert sorted(r["label"] for r in labels) == sorted(s.name for s in get_profile("frail").carers)
    assert visits > 0
