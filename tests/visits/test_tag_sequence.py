"""A forgotten check-out does not turn a carer's later taps around: the next visit's arrival checks in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg

from accounts import queries as account_queries
from tests.visits.fixtures import make_home, make_visit
from visits import tag_queries
from visits.checkins import CheckConfig
from visits.tags import tap

START = datetime(2026, 11, 3, 8, tzinfo=UTC)


async def test_the_tap_after_a_forgotten_check_out_starts_the_next_visit(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        home = await make_home(conn)
        carer = await account_queries.insert_user(
            conn, email="jo@care.example", name="Jo", role="carer", organisation_id=home.organisation_id,
            password_hash=None,
        )  # fmt: skip
        assert carer is not None
        await tag_queries.insert_tag(
            conn, tag_id="T-1", user_id=carer["id"], organisation_id=home.organisation_id
        )
        morning = await make_visit(conn, home, START)
        lunch = await make_visit(conn, home, START + timedelta(hours=4))
        for visit in (morning, lunch):
            await conn.execute(
                "INSERT INTO visit_assignments (visit_id, carer_id) VALUES ($1, $2)", visit, carer["id"]
            )
        # In at 08:01 and never out; in at 12:02 and out at 12:30.
        for seq, at in enumerate((START + timedelta(minutes=1), START + timedelta(hours=4, minutes=2),
                                  START + timedelta(hours=4, minutes=30)), start=1):  # fmt: skip
            reading = {
                "home_id": home.home_id, "device_id": home.hall, "seq": seq, "time": at, "received_at": at,
                "payload": {"tag_id": "T-1"},
            }  # fmt: skip
            async with conn.transaction():
                await tap(conn, reading, config=CheckConfig(), now=at)
        rows = {r["id"]: r for r in await conn.fetch("SELECT * FROM visits")}
    assert rows[morning]["status"] == "in_progress" and rows[morning]["checked_out_at"] is None
    assert rows[lunch]["status"] == "completed"
    assert rows[lunch]["checked_in_at"] == START + timedelta(hours=4, minutes=2)
