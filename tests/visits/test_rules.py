"""Each live rule with a clock moved by hand: late, missed, short, no check-out, per-plan tuning."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID

import asyncpg

from visits import plans, queries, rules
from visits import service as visits
from visits.checkins import CheckConfig
from visits.plan_schemas import PlanIn
from visits.schemas import PhoneCheckIn

from .conftest import HOME_AT, Provider, make_visit

T0 = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
CONFIG = CheckConfig()
HERE = PhoneCheckIn(latitude=HOME_AT[0], longitude=HOME_AT[1], accuracy_m=5)


class HandClock:
    """A clock the test moves."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def to(self, at: datetime) -> None:
        """Move to an instant."""
        self.now = at


async def _alerts(pool: asyncpg.Pool, home: UUID) -> dict[str, asyncpg.Record]:
    async with pool.acquire() as conn:
        rows = await conn.fetch("SELECT * FROM alerts WHERE home_id = $1 ORDER BY created_at", home)
    return {r["kind"]: r for r in rows}


async def _check(
    pool: asyncpg.Pool,
    provider: Provider,
    visit: UUID,
    kind: str,
    at: datetime,
    arrived: datetime | None = None,
) -> None:
    """A phone check-in or check-out made at `at`, heard of then (or `arrived`, when it was offline)."""
    async with pool.acquire() as conn, conn.transaction():
        body = PhoneCheckIn.model_validate({**HERE.model_dump(), "event_time": at})
        await visits.phone_check(
            conn,
            provider.viewer("carer"),
            visit_id=visit,
            kind=kind,
            body=body,
            config=CONFIG,
            now=arrived or at,
        )


async def test_late_then_missed_at_the_moments_they_could_first_be_known(
    pool: asyncpg.Pool, provider: Provider
) -> None:
    async with pool.acquire() as conn:
        visit = await make_visit(conn, provider, start=T0, minutes=45, carers=(provider.carer,))
    clock = HandClock(T0 + timedelta(minutes=14, seconds=59))
    job = rules.RulesJob(pool, clock)
    await job.run_once()
    assert await _alerts(pool, provider.home) == {}
    clock.to(T0 + timedelta(minutes=15))
    await job.run_once()
    late = (await _alerts(pool, provider.home))["visit_late"]
    assert (late["status"], late["triggered_at"], late["source"]) == (
        "open",
        T0 + timedelta(minutes=15),
        "visits",
    )
    assert "15 min after its start" in late["explanation"]
    clock.to(T0 + timedelta(minutes=30))
    await job.run_once()  # still late: the same alert, not another
    assert (await _alerts(pool, provider.home))["visit_late"]["occurrences"] == 1
    clock.to(T0 + timedelta(minutes=45))
    await job.run_once()
    alerts = await _alerts(pool, provider.home)
    assert alerts["visit_missed"]["triggered_at"] == T0 + timedelta(minutes=45)
    assert alerts["visit_missed"]["severity"] == "high"
    assert "by 08:45" in alerts["visit_missed"]["explanation"]
    assert alerts["visit_late"]["status"] == "resolved"
    async with pool.acquire() as conn:
        row = await queries.get_visit(conn, visit_id=visit)
    assert row is not None and (row["status"], row["status_reason"]) == (
        "missed",
        "nobody checked in by 08:45",
    )


async def test_a_check_in_clears_late(pool: asyncpg.Pool, provider: Provider) -> None:
    async with pool.acquire() as conn:
        visit = await make_visit(conn, provider, start=T0, carers=(provider.carer,))
    await rules.sweep(pool, now=T0 + timedelta(minutes=20))
    await _check(pool, provider, visit, "check_in", T0 + timedelta(minutes=22))
    late = (await _alerts(pool, provider.home))["visit_late"]
    assert (late["status"], late["resolution"]) == ("resolved", "cleared")
    assert late["resolution_note"] == "checked in at 08:22 (22 min after the planned start)"


async def test_short_visit(pool: asyncpg.Pool, provider: Provider) -> None:
    async with pool.acquire() as conn:
        short = await make_visit(conn, provider, start=T0, minutes=60, carers=(provider.carer,))
        enough = await make_visit(
            conn, provider, start=T0, minutes=60, carers=(provider.carer,), home=provider.other_home
        )
    await _check(pool, provider, short, "check_in", T0)
    await _check(pool, provider, short, "check_out", T0 + timedelta(minutes=44))
    alert = (await _alerts(pool, provider.home))["visit_short"]
    assert alert["triggered_at"] == T0 + timedelta(minutes=44)
    assert alert["explanation"] == "44 min delivered of 60 planned (73 %, below 75 %)."
    async with pool.acquire() as conn, conn.transaction():
        body = PhoneCheckIn(latitude=51.49, longitude=-0.27, accuracy_m=5)
        for kind, at in (
            ("check_in", T0 + timedelta(hours=2)),
            ("check_out", T0 + timedelta(hours=2, minutes=45)),
        ):
            await visits.phone_check(
                conn,
                provider.viewer("carer"),
                visit_id=enough,
                kind=kind,
                body=PhoneCheckIn.model_validate({**body.model_dump(), "event_time": at}),
                config=CONFIG,
                now=at,
            )
    assert "visit_short" not in await _alerts(pool, provider.other_home)


async def test_no_check_out_an_hour_after_the_planned_end(pool: asyncpg.Pool, provider: Provider) -> None:
    async with pool.acquire() as conn:
        visit = await make_visit(conn, provider, start=T0, minutes=30, carers=(provider.carer,))
    await _check(pool, provider, visit, "check_in", T0)
    await rules.sweep(pool, now=T0 + timedelta(minutes=89))
    assert "visit_no_checkout" not in await _alerts(pool, provider.home)
    await rules.sweep(pool, now=T0 + timedelta(minutes=90))
    alert = (await _alerts(pool, provider.home))["visit_no_checkout"]
    assert alert["triggered_at"] == T0 + timedelta(minutes=90)
    await _check(pool, provider, visit, "check_out", T0 + timedelta(minutes=95))
    alert = (await _alerts(pool, provider.home))["visit_no_checkout"]
    assert (alert["status"], alert["resolution_note"]) == ("resolved", "checked out at 09:35")


async def test_alerts_an_offline_phone_shows_unfounded_are_withdrawn(
    pool: asyncpg.Pool, provider: Provider
) -> None:
    async with pool.acquire() as conn:
        visit = await make_visit(conn, provider, start=T0, minutes=30, carers=(provider.carer,))
    # Nothing heard by 08:15: late, rightly on what was known then.
    await rules.sweep(pool, now=T0 + timedelta(minutes=15))
    assert (await _alerts(pool, provider.home))["visit_late"]["status"] == "open"
    # The phone checked in at 08:05 while offline; its check-in arrives at 08:20.
    await _check(pool, provider, visit, "check_in", T0 + timedelta(minutes=5), T0 + timedelta(minutes=20))
    late = (await _alerts(pool, provider.home))["visit_late"]
    assert (late["status"], late["resolution"]) == ("resolved", "cancelled")
    assert late["resolution_note"] == (
        "withdrawn: the check-in made at 08:05 reached the system at 08:20 (sent late); "
        "the visit was not late"
    )
    # Still checked in an hour after the end (09:30): no check-out; the check-out made at 08:40 arrives
    # at 09:50 and withdraws it.
    await rules.sweep(pool, now=T0 + timedelta(minutes=90))
    assert (await _alerts(pool, provider.home))["visit_no_checkout"]["status"] == "open"
    await _check(pool, provider, visit, "check_out", T0 + timedelta(minutes=40), T0 + timedelta(minutes=110))
    gone = (await _alerts(pool, provider.home))["visit_no_checkout"]
    assert (gone["status"], gone["resolution"]) == ("resolved", "cancelled")
    assert "the check-out made at 08:40 reached the system at 09:50" in gone["resolution_note"]


async def test_a_check_in_that_was_late_clears_late_without_withdrawing_it(
    pool: asyncpg.Pool, provider: Provider
) -> None:
    async with pool.acquire() as conn:
        visit = await make_visit(conn, provider, start=T0, minutes=30, carers=(provider.carer,))
    await rules.sweep(pool, now=T0 + timedelta(minutes=15))
    await _check(pool, provider, visit, "check_in", T0 + timedelta(minutes=22))
    late = (await _alerts(pool, provider.home))["visit_late"]
    assert (late["status"], late["resolution"]) == ("resolved", "cleared")
    assert late["resolution_note"] == "checked in at 08:22 (22 min after the planned start)"


async def test_a_resolved_alert_is_not_raised_again(pool: asyncpg.Pool, provider: Provider) -> None:
    async with pool.acquire() as conn:
        await make_visit(conn, provider, start=T0, carers=(provider.carer,))
    await rules.sweep(pool, now=T0 + timedelta(minutes=16))
    async with pool.acquire() as conn:
        await conn.execute(
            "UPDATE alerts SET status = 'resolved', resolved_at = now(), resolution = 'handled'"
        )
    await rules.sweep(pool, now=T0 + timedelta(minutes=20))
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM alerts WHERE kind = 'visit_late'") == 1


async def test_rules_tuned_per_plan(pool: asyncpg.Pool, provider: Provider) -> None:
    body = PlanIn.model_validate(
        {
            "name": "Tuned",
            "starts_on": date(2026, 12, 2),
            "visits": [
                {"weekdays": [3], "start_time": time(8), "planned_minutes": 60, "carer_ids": [provider.carer]}
            ],
            "rules": {"late_after_minutes": 5, "missed_after_minutes": 20, "alerts_off": ["visit_short"]},
        },
        strict=False,
    )
    async with pool.acquire() as conn, conn.transaction():
        plan = await plans.create_plan(
            conn,
            provider.viewer("coordinator"),
            home_id=provider.home,
            body=body,
            now=T0 - timedelta(hours=3),
            horizon_days=1,
        )
    await rules.sweep(pool, now=T0 + timedelta(minutes=5))
    assert "visit_late" in await _alerts(pool, provider.home)
    await rules.sweep(pool, now=T0 + timedelta(minutes=20))
    assert "visit_missed" in await _alerts(pool, provider.home)
    assert plan["late_after_minutes"] == 5
