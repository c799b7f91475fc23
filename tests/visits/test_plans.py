"""Care plans: materialised over a rolling horizon in the home's zone, with one-off changes and pauses."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from accounts.errors import InvalidInput as AccountsInvalid
from visits import materialise, plans, queries
from visits import service as visits
from visits.errors import InvalidInput
from visits.plan_schemas import CancelIn, ExtraIn, MoveIn, PauseIn, PlanIn
from visits.schemas import VisitCarersIn

from .conftest import Provider

LONDON = ZoneInfo("Europe/London")


def _plan(provider: Provider, starts_on: date, **slot: Any) -> PlanIn:
    visit = {
        "weekdays": [1, 2, 3, 4, 5, 6, 7],
        "start_time": time(8),
        "planned_minutes": 45,
        "tasks": ["medication", "breakfast"],
        "carer_ids": [provider.carer],
    } | slot
    return PlanIn.model_validate({"name": "Daily", "starts_on": starts_on, "visits": [visit]}, strict=False)


async def _visits(conn: asyncpg.Connection, plan_id: UUID) -> list[asyncpg.Record]:
    return list(await conn.fetch("SELECT * FROM visits WHERE plan_id = $1 ORDER BY planned_start", plan_id))


@pytest.mark.parametrize(
    ("starts_on", "change_day", "before_utc", "after_utc"),
    [(date(2026, 3, 23), date(2026, 3, 29), 8, 7), (date(2026, 10, 19), date(2026, 10, 25), 7, 8)],
    ids=["spring", "autumn"],
)
async def test_two_weeks_of_08_00_visits_across_the_clock_change(
    pool: asyncpg.Pool, provider: Provider, starts_on: date, change_day: date, before_utc: int, after_utc: int
) -> None:
    now = datetime.combine(starts_on, time(5), UTC)
    async with pool.acquire() as conn, conn.transaction():
        plan = await plans.create_plan(
            conn,
            provider.viewer("coordinator"),
            home_id=provider.home,
            body=_plan(provider, starts_on),
            now=now,
            horizon_days=14,
        )
        rows = await _visits(conn, plan["id"])
    assert [r["local_date"] for r in rows] == [starts_on + timedelta(days=d) for d in range(15)]
    assert {r["planned_start"].astimezone(LONDON).time() for r in rows} == {time(8)}
    assert {r["planned_end"] - r["planned_start"] for r in rows} == {timedelta(minutes=45)}
    for r in rows:
        expected = before_utc if r["local_date"] < change_day else after_utc
        assert r["planned_start"].astimezone(UTC).hour == expected, r["local_date"]
    # The standing assignment, recorded as the plan's.
    async with pool.acquire() as conn:
        assert await queries.assigned_carers(conn, visit_id=rows[0]["id"]) == [provider.carer]
        [change] = await queries.assignment_history(conn, visit_id=rows[0]["id"])
    assert (change["action"], change["actor_kind"]) == ("assigned", "system")


async def test_rolling_forward_is_idempotent_and_extends_the_horizon(
    pool: asyncpg.Pool, provider: Provider
) -> None:
    now = datetime(2026, 12, 1, 5, tzinfo=UTC)
    async with pool.acquire() as conn, conn.transaction():
        plan = await plans.create_plan(
            conn,
            provider.viewer("coordinator"),
            home_id=provider.home,
            body=_plan(provider, date(2026, 12, 1)),
            now=now,
            horizon_days=14,
        )
    again = await materialise.roll_all(pool, now=now, horizon_days=14)
    assert (again.created, again.rescheduled) == (0, 0)
    later = await materialise.roll_all(pool, now=now + timedelta(days=3), horizon_days=14)
    assert later.created == 3
    async with pool.acquire() as conn:
        assert len(await _visits(conn, plan["id"])) == 18


async def test_cancel_move_extra_and_pause(pool: asyncpg.Pool, provider: Provider) -> None:
    now = datetime(2026, 12, 1, 5, tzinfo=UTC)
    coordinator = provider.viewer("coordinator")
    async with pool.acquire() as conn, conn.transaction():
        plan = await plans.create_plan(
            conn,
            coordinator,
            home_id=provider.home,
            body=_plan(provider, date(2026, 12, 1)),
            now=now,
            horizon_days=14,
        )
        [slot] = await conn.fetch("SELECT id FROM care_plan_visits WHERE plan_id = $1", plan["id"])
        for change in (
            CancelIn(
                kind="cancel",
                plan_visit_id=slot["id"],
                occurrence_date=date(2026, 12, 2),
                reason="family visiting",
            ),
            MoveIn(
                kind="move",
                plan_visit_id=slot["id"],
                occurrence_date=date(2026, 12, 3),
                local_date=date(2026, 12, 3),
                start_time=time(10, 30),
                planned_minutes=30,
                reason="GP appointment",
            ),
            ExtraIn(
                kind="extra",
                plan_visit_id=slot["id"],
                local_date=date(2026, 12, 4),
                start_time=time(18),
                planned_minutes=30,
                tasks=["supper"],
                reason="extra evening call",
            ),
            PauseIn(
                kind="pause",
                paused_from=date(2026, 12, 8),
                paused_until=date(2026, 12, 10),
                reason="hospital stay",
            ),
        ):
            await plans.change_plan(
                conn, coordinator, plan_id=plan["id"], change=change, now=now, horizon_days=14
            )
        rows = {
            (r["local_date"], r["planned_start"].astimezone(LONDON).time()): r
            for r in await _visits(conn, plan["id"])
        }
        extra_tasks = await conn.fetch(
            "SELECT task FROM visit_tasks t JOIN visits v ON v.id = t.visit_id WHERE v.change_id IS NOT NULL"
        )
    assert rows[(date(2026, 12, 2), time(8))]["status"] == "cancelled"
    assert rows[(date(2026, 12, 2), time(8))]["status_reason"] == "family visiting"
    moved = rows[(date(2026, 12, 3), time(10, 30))]
    assert moved["planned_end"] - moved["planned_start"] == timedelta(minutes=30)
    assert (date(2026, 12, 3), time(8)) not in rows
    assert rows[(date(2026, 12, 4), time(18))]["status"] == "planned"
    assert [r["task"] for r in extra_tasks] == ["supper"]
    paused = [rows[(date(2026, 12, d), time(8))] for d in (8, 9, 10)]
    assert {(r["status"], r["status_reason"]) for r in paused} == {
        ("cancelled", "plan paused: hospital stay")
    }
    assert rows[(date(2026, 12, 11), time(8))]["status"] == "planned"


async def test_a_change_must_name_a_real_occurrence(pool: asyncpg.Pool, provider: Provider) -> None:
    now = datetime(2026, 12, 1, 5, tzinfo=UTC)
    coordinator = provider.viewer("coordinator")
    async with pool.acquire() as conn, conn.transaction():
        plan = await plans.create_plan(
            conn,
            coordinator,
            home_id=provider.home,
            body=_plan(provider, date(2026, 12, 1), weekdays=[1]),
            now=now,
            horizon_days=14,
        )
        [slot] = await conn.fetch("SELECT id FROM care_plan_visits WHERE plan_id = $1", plan["id"])
        tuesday = CancelIn(
            kind="cancel", plan_visit_id=slot["id"], occurrence_date=date(2026, 12, 8), reason="x"
        )
        with pytest.raises(InvalidInput, match="no occurrence"):
            await plans.change_plan(
                conn, coordinator, plan_id=plan["id"], change=tuesday, now=now, horizon_days=14
            )


async def test_a_visit_under_way_is_never_rewritten(pool: asyncpg.Pool, provider: Provider) -> None:
    now = datetime(2026, 12, 1, 5, tzinfo=UTC)
    coordinator = provider.viewer("coordinator")
    async with pool.acquire() as conn, conn.transaction():
        plan = await plans.create_plan(
            conn,
            coordinator,
            home_id=provider.home,
            body=_plan(provider, date(2026, 12, 1)),
            now=now,
            horizon_days=3,
        )
        first = (await _visits(conn, plan["id"]))[0]
        await conn.execute(
            "UPDATE visits SET status = 'in_progress', checked_in_at = $2 WHERE id = $1",
            first["id"],
            first["planned_start"],
        )
        await plans.stop_plan(conn, coordinator, plan_id=plan["id"], now=now, horizon_days=3)
        rows = await _visits(conn, plan["id"])
    assert rows[0]["status"] == "in_progress"
    assert {r["status"] for r in rows[1:]} == {"cancelled"}
    assert {r["status_reason"] for r in rows[1:]} == {"no longer in the care plan"}


async def test_carers_must_be_the_homes_and_have_the_skills(pool: asyncpg.Pool, provider: Provider) -> None:
    now = datetime(2026, 12, 1, 5, tzinfo=UTC)
    coordinator = provider.viewer("coordinator")
    async with pool.acquire() as conn, conn.transaction():
        with pytest.raises(InvalidInput, match="lacks the skills this visit requires: medication"):
            await plans.create_plan(
                conn,
                coordinator,
                home_id=provider.home,
                body=_plan(provider, date(2026, 12, 1), required_skills=["medication"]),
                now=now,
                horizon_days=3,
            )
        with pytest.raises(AccountsInvalid, match="not a carer"):
            body = _plan(provider, date(2026, 12, 1), carer_ids=[provider.family])
            await plans.create_plan(
                conn, coordinator, home_id=provider.home, body=body, now=now, horizon_days=3
            )


async def test_reassigning_is_recorded_with_its_reason(pool: asyncpg.Pool, provider: Provider) -> None:
    now = datetime(2026, 12, 1, 5, tzinfo=UTC)
    coordinator = provider.viewer("coordinator")
    async with pool.acquire() as conn, conn.transaction():
        plan = await plans.create_plan(
            conn,
            coordinator,
            home_id=provider.home,
            body=_plan(provider, date(2026, 12, 1)),
            now=now,
            horizon_days=1,
        )
        visit = (await _visits(conn, plan["id"]))[0]["id"]
        body = VisitCarersIn(carer_ids=[provider.second_carer], reason="Sam is off sick")
        change = await visits.reassign(conn, coordinator, visit_id=visit, body=body)
        history = await queries.assignment_history(conn, visit_id=visit)
        assert await queries.assigned_carers(conn, visit_id=visit) == [provider.second_carer]
    assert change == {"added": [str(provider.second_carer)], "removed": [str(provider.carer)]}
    assert [(h["action"], h["carer_id"], h["reason"]) for h in history[1:]] == [
        ("unassigned", provider.carer, "Sam is off sick"),
        ("assigned", provider.second_carer, "Sam is off sick"),
    ]
    assert history[-1]["actor_id"] == provider.coordinator
