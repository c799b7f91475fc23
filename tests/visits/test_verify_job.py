"""The verification job on a real database: verdicts written after the check-out has settled, an
unverified visit raised as an alert, and a visit that changes judged again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg

from tests.visits.fixtures import check, make_home, make_visit, reading
from visits.verify_job import JobOptions, run_once

START = datetime(2026, 11, 3, 8, tzinfo=UTC)


def _at(minutes: float) -> datetime:
    return START + timedelta(minutes=minutes)


async def test_verified_and_unverified_visits(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        home = await make_home(conn)
        tapped = await make_visit(conn, home, START)
        await check(conn, home, tapped, "check_in", _at(1), "tag")
        await reading(conn, home, home.door, "contact", _at(1.3), 1.0)
        await reading(conn, home, home.kitchen, "motion", _at(8), 1.0)
        await check(conn, home, tapped, "check_out", _at(31), "tag")
        await reading(conn, home, home.door, "contact", _at(31.5), 1.0)
        other = await make_home(conn, name="Arthur Lee", org=home.organisation_id)
        phoned = await make_visit(conn, other, START)
        await check(conn, other, phoned, "check_in", _at(2), "phone", distance_m=60.0, accuracy_m=20.0)
        await check(conn, other, phoned, "check_out", _at(32), "phone", distance_m=60.0, accuracy_m=20.0)

    options = JobOptions(settle_s=300)
    assert (
        await run_once(pool, options, clock=lambda: _at(33)) == 0
    )  # the departure door has not had its time
    assert await run_once(pool, options, clock=lambda: _at(40)) == 2
    assert await run_once(pool, options, clock=lambda: _at(41)) == 0  # judged once

    async with pool.acquire() as conn:
        rows = {r["visit_id"]: r for r in await conn.fetch("SELECT * FROM visit_verifications")}
        assert rows[tapped]["verdict"] == "verified"
        assert rows[tapped]["evidence"]["corroborated"] is True
        assert rows[phoned]["verdict"] == "unverified"
        assert rows[phoned]["reasons"][0].startswith("Nobody came in: the front door did not open")
        alert = await conn.fetchrow("SELECT * FROM alerts WHERE kind = 'visit_unverified'")
        assert alert["home_id"] == other.home_id and alert["source"] == "visits"
        assert alert["triggered_at"] == _at(37)  # the check-out and five minutes: when it could be known
        assert "Nobody came in" in alert["explanation"]


async def test_missed_and_no_check_out(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        home = await make_home(conn)
        missed = await make_visit(conn, home, START)
        await conn.execute("UPDATE visits SET status = 'missed' WHERE id = $1", missed)
        open_ = await make_visit(conn, home, START + timedelta(hours=3))
        await check(conn, home, open_, "check_in", START + timedelta(hours=3, minutes=1), "tag")
        await reading(conn, home, home.door, "contact", START + timedelta(hours=3, minutes=1), 1.0)
        await reading(conn, home, home.kitchen, "motion", START + timedelta(hours=3, minutes=9), 1.0)
    # No check-out: judged once the plan's limit (60 min after the planned end) has passed.
    assert await run_once(pool, clock=lambda: START + timedelta(hours=4, minutes=20)) == 1
    assert await run_once(pool, clock=lambda: START + timedelta(hours=4, minutes=31)) == 1
    async with pool.acquire() as conn:
        rows = {r["visit_id"]: r for r in await conn.fetch("SELECT * FROM visit_verifications")}
        assert rows[missed]["verdict"] == "missed"
        assert rows[open_]["verdict"] == "verified_with_exceptions"
        assert "No check-out was recorded" in rows[open_]["reasons"][0]
        # A late check-out from an offline phone changes the visit: it is judged again.
        await check(conn, home, open_, "check_out", START + timedelta(hours=3, minutes=31), "tag")
        await reading(conn, home, home.door, "contact", START + timedelta(hours=3, minutes=31), 1.0)
    assert await run_once(pool, clock=lambda: START + timedelta(days=1)) == 1
    async with pool.acquire() as conn:
        verdict = await conn.fetchval("SELECT verdict FROM visit_verifications WHERE visit_id = $1", open_)
        assert verdict == "verified"


async def test_a_door_sensor_whose_clock_is_slow_is_read_on_the_homes_clock(pool: asyncpg.Pool) -> None:
    """The door contact's clock is 7 minutes slow (its readings arrive 7 minutes after their own time)."""
    slow = 420.0
    async with pool.acquire() as conn:
        home = await make_home(conn)
        visit = await make_visit(conn, home, START)
        await check(conn, home, visit, "check_in", _at(1), "tag")
        for minute in range(-600, 40, 20):  # the day's other readings show each clock's habit
            await reading(conn, home, home.door, "contact", _at(minute) - timedelta(seconds=slow), 0.0, slow)
            await reading(conn, home, home.hall, "motion", _at(minute + 5), 0.0)
        await reading(conn, home, home.door, "contact", _at(1.3) - timedelta(seconds=slow), 1.0, slow)
        await reading(conn, home, home.kitchen, "motion", _at(8), 1.0)
        await check(conn, home, visit, "check_out", _at(31), "tag")
        await reading(conn, home, home.door, "contact", _at(31.5) - timedelta(seconds=slow), 1.0, slow)
    assert await run_once(pool, clock=lambda: _at(40)) == 1
    async with pool.acquire() as conn:
        row = await conn.fetchrow("SELECT * FROM visit_verifications WHERE visit_id = $1", visit)
    assert row["verdict"] == "verified", row["reasons"]
    assert row["evidence"]["clock_offsets_s"] == {str(home.door): 420}


async def test_an_unverified_alert_is_withdrawn_when_what_arrived_later_verifies_the_visit(
    pool: asyncpg.Pool,
) -> None:
    async with pool.acquire() as conn:
        home = await make_home(conn)
        visit = await make_visit(conn, home, START)
        await check(conn, home, visit, "check_in", _at(1), "tag")
        await reading(conn, home, home.door, "contact", _at(1.2), 1.0)
        await reading(conn, home, home.kitchen, "motion", _at(40), 1.0)
    # Still checked in past the limit, and nothing moved in the visit's planned half hour: unverified.
    assert await run_once(pool, clock=lambda: _at(95)) == 1
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT verdict FROM visit_verifications") == "unverified"
        assert await conn.fetchval("SELECT status FROM alerts WHERE kind = 'visit_unverified'") == "open"
        # The phone that was offline sends its check-out of 08:50: the carer was there until then.
        await check(conn, home, visit, "check_out", _at(50), "tag")
        await reading(conn, home, home.door, "contact", _at(50.3), 1.0)
    assert await run_once(pool, clock=lambda: _at(100)) == 1
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT verdict FROM visit_verifications") == "verified"
        alert = await conn.fetchrow("SELECT * FROM alerts WHERE kind = 'visit_unverified'")
    assert (alert["status"], alert["resolution"]) == ("resolved", "cancelled")
    assert alert["resolution_note"].startswith(
        "withdrawn: judged again on what arrived since, the visit is verified:"
    )
