"""Migration 0013: the visits tables take what the domain stores and refuse what it must not."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import asyncpg
import pytest

from accounts.tenancy import EVERYTHING
from homes import queries as home_queries
from visits import queries


async def test_a_visit_with_tasks_and_a_verdict_is_in_the_log(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as db:
        await _check(db)


async def _check(db: asyncpg.Connection) -> None:
    org = await home_queries.insert_organisation(db, name="Org")
    home = await home_queries.insert_home(db, organisation_id=org, name="Home")
    start = datetime(2026, 12, 2, 8, tzinfo=UTC)
    visit = await queries.insert_visit(
        db,
        organisation_id=org,
        home_id=home,
        local_date=date(2026, 12, 2),
        planned_start=start,
        planned_end=start + timedelta(minutes=45),
        tasks=["medication", "breakfast"],
    )
    assert visit is not None
    await queries.upsert_verification(
        db, visit_id=visit, verdict="verified", reasons=["door opened"], evidence={}, computed_at=start
    )
    [row] = await queries.select_log(db, scope=EVERYTHING)
    assert row["verdict"] == "verified" and row["planned_minutes"] == 45
    assert [t["task"] for t in row["tasks"]] == ["medication", "breakfast"]
    with pytest.raises(asyncpg.CheckViolationError):
        await queries.upsert_verification(
            db, visit_id=visit, verdict="fine", reasons=[], evidence={}, computed_at=start
        )
