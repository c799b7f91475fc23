"""The chain on a hand-moved clock, with a real SMTP server and HTTP receiver: steps after their waits,
acknowledgement links (once, that alert only, not after expiry), quiet hours, an outsider never told."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from uuid import UUID

import asyncpg
import httpx
import pytest

from alerts import service as alerts
from alerts.service import Severity, Signal
from kernel.settings import Settings
from notifications.acklinks import acknowledge_by_link
from notifications.channels.webhook import verify
from notifications.clock import ManualClock
from notifications.dispatcher import Dispatcher
from notifications.errors import LinkInvalid
from notifications.process import build_dispatcher
from tests.notifications.support import (
    HttpReceiver,
    People,
    SmtpSink,
    ack_token,
    build_people,
    set_policy,
    text_of,
    three_steps,
)

T0 = datetime(2026, 11, 3, 14, 0, tzinfo=UTC)


@pytest.fixture
async def world(pool: asyncpg.Pool, sinks: tuple[SmtpSink, HttpReceiver]) -> People:
    async with pool.acquire() as conn:
        return await build_people(conn, webhook_url=sinks[1].url)


@pytest.fixture
async def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
async def dispatcher(
    pool: asyncpg.Pool, notify_settings: Settings, clock: ManualClock
) -> AsyncIterator[Dispatcher]:
    async with httpx.AsyncClient() as http:
        from notifications.channels.webpush import new_vapid_pem

        yield build_dispatcher(pool, notify_settings, http, new_vapid_pem(), clock=clock)


async def _raise(
    pool: asyncpg.Pool,
    home: UUID,
    *,
    kind: str = "alarm_pressed",
    severity: Severity = "critical",
    at: datetime = T0,
    key: str | None = None,
) -> UUID:
    async with pool.acquire() as conn:
        change = await alerts.raise_or_update(
            conn,
            Signal(
                home_id=home,
                kind=kind,
                severity=severity,
                dedupe_key=key or kind,
                triggered_at=at,
                title="Alarm pressed",
                explanation="The pendant's button was pressed.",
                room="bedroom",
            ),
        )
    return change.alert.id


async def _quiet_nights_for_the_daughter(pool: asyncpg.Pool, world: People) -> None:
    """The daughter's quiet hours 22:00-07:00 in London, and a three-step policy waiting 8 h a step."""
    async with pool.acquire() as conn:
        await conn.execute(
            """
            INSERT INTO notification_preferences (user_id, quiet_start, quiet_end, digest_low, timezone)
            VALUES ($1, '22:00', '07:00', false, 'Europe/London')
            """,
            world.family1,
        )
        await set_policy(conn, org=world.org, home=world.home, policy=three_steps(world, wait_s=3600 * 8))


async def test_steps_go_out_after_their_waits_and_the_link_stops_the_chain(
    pool: asyncpg.Pool,
    world: People,
    sinks: tuple[SmtpSink, HttpReceiver],
    clock: ManualClock,
    dispatcher: Dispatcher,
) -> None:
    smtp, http = sinks
    async with pool.acquire() as conn:
        await set_policy(conn, org=world.org, home=world.home, policy=three_steps(world, wait_s=120))
    alert_id = await _raise(pool, world.home)
    await dispatcher.run_once()
    first = await smtp.wait_for(world.emails["daughter"])
    assert "Rose Cottage" in first[0]["Subject"] and "URGENT" in first[0]["Subject"]
    body = text_of(first[0])
    assert "Call them now" in body and "bedroom" in body and "14:00" in body
    assert smtp.to(world.emails["son"]) == []

    clock.advance(119)
    await dispatcher.run_once()
    assert smtp.to(world.emails["son"]) == []
    clock.advance(1)
    await dispatcher.run_once()
    await smtp.wait_for(world.emails["son"])
    assert smtp.to(world.emails["coordinator"]) == []
    clock.advance(120)
    await dispatcher.run_once()
    await smtp.wait_for(world.emails["coordinator"])
    headers, payload, raw = http.received[0]
    assert payload["alert"]["id"] == str(alert_id)
    assert verify("whsec-test", headers["X-Telecare-Timestamp"], raw, headers["X-Telecare-Signature"])

    async with pool.acquire() as conn:
        done = await acknowledge_by_link(
            conn, token=ack_token(first[0]), at=clock.now(), client_addr="127.0.0.1", user_agent="test"
        )
        assert done.alert_id == alert_id and done.status == "acknowledged"
        history = await alerts.history(conn, alert_id=alert_id)
        ack = [e for e in history if e.action == "acknowledged"]
        assert ack and ack[0].actor_id == world.family1 and "link" in ack[0].actor_name
        audit = await conn.fetchrow("SELECT * FROM audit_log WHERE action = 'alert.acknowledge_link'")
        assert audit["detail"]["sent_to"] == f"email:{world.emails['daughter']}"
    clock.advance(600)
    await dispatcher.run_once()
    async with pool.acquire() as conn:
        chain = await conn.fetchrow("SELECT * FROM notification_chains WHERE alert_id = $1", alert_id)
        counts = await conn.fetch(
            "SELECT recipient, channel, count(*) FROM notification_deliveries"
            " GROUP BY 1, 2 HAVING count(*) > 1"
        )
    assert chain["reached_last"] and counts == []
    for name in ("daughter", "son", "coordinator"):
        assert len(smtp.to(world.emails[name])) == 1


async def test_an_ack_link_works_once_for_its_alert_only_and_not_after_expiry(
    pool: asyncpg.Pool,
    world: People,
    sinks: tuple[SmtpSink, HttpReceiver],
    clock: ManualClock,
    dispatcher: Dispatcher,
    notify_settings: Settings,
) -> None:
    smtp, _ = sinks
    async with pool.acquire() as conn:
        await set_policy(conn, org=world.org, home=world.home, policy=three_steps(world))
    first = await _raise(pool, world.home, key="a")
    second = await _raise(pool, world.home, key="b")
    await dispatcher.run_once()
    mails = await smtp.wait_for(world.emails["daughter"], count=2)
    tokens = {m["X-Telecare-Delivery"]: ack_token(m) for m in mails}
    async with pool.acquire() as conn:
        by_alert = {
            r["alert_id"]: tokens[str(r["id"])]
            for r in await conn.fetch("SELECT id, alert_id FROM notification_deliveries")
        }
        await acknowledge_by_link(
            conn, token=by_alert[first], at=clock.now(), client_addr=None, user_agent=None
        )
        assert (await conn.fetchval("SELECT status FROM alerts WHERE id = $1", second)) == "open"
        with pytest.raises(LinkInvalid):
            await acknowledge_by_link(
                conn, token=by_alert[first], at=clock.now(), client_addr=None, user_agent=None
            )
        with pytest.raises(LinkInvalid):
            await acknowledge_by_link(
                conn, token="forged-token", at=clock.now(), client_addr=None, user_agent=None
            )
        late = clock.now() + timedelta(hours=notify_settings.notify_ack_link_hours, seconds=1)
        with pytest.raises(LinkInvalid):
            await acknowledge_by_link(
                conn, token=by_alert[second], at=late, client_addr=None, user_agent=None
            )
        assert (await conn.fetchval("SELECT status FROM alerts WHERE id = $1", second)) == "open"


async def test_an_outsider_named_by_the_policy_is_never_told(
    pool: asyncpg.Pool,
    world: People,
    sinks: tuple[SmtpSink, HttpReceiver],
    clock: ManualClock,
    dispatcher: Dispatcher,
) -> None:
    smtp, _ = sinks
    policy = {
        "steps": [
            {
                "targets": [{"kind": "user", "id": str(world.outsider)}, {"kind": "circle"}],
                "channels": ["email"],
                "wait_s": 60,
            },
            {"targets": [{"kind": "user", "id": str(world.outsider)}], "channels": ["email"], "wait_s": 60},
        ],
        "repeats": 1,
    }
    async with pool.acquire() as conn:
        await set_policy(conn, org=world.org, home=None, policy=policy)  # the organisation's default
    await _raise(pool, world.home)
    for _ in range(6):
        await dispatcher.run_once()
        clock.advance(61)
    await smtp.wait_for(world.emails["daughter"], count=2)  # the circle, in both rounds
    assert smtp.to(world.emails["outsider"]) == []
    async with pool.acquire() as conn:
        assert (
            await conn.fetchval(
                "SELECT count(*) FROM notification_deliveries WHERE user_id = $1", world.outsider
            )
            == 0
        )


async def test_quiet_hours_hold_a_low_alert_until_they_end_but_not_a_critical_one(
    pool: asyncpg.Pool,
    world: People,
    sinks: tuple[SmtpSink, HttpReceiver],
    clock: ManualClock,
    dispatcher: Dispatcher,
) -> None:
    smtp, _ = sinks
    night = datetime(2026, 11, 4, 2, 0, tzinfo=UTC)  # 02:00 in London (GMT in November)
    clock.set(night)
    await _quiet_nights_for_the_daughter(pool, world)
    await _raise(pool, world.home, kind="low_battery", severity="low", at=night)
    await dispatcher.run_once()
    assert smtp.to(world.emails["daughter"]) == []
    await _raise(pool, world.home, kind="alarm_pressed", severity="critical", at=night)
    await dispatcher.run_once()
    urgent = await smtp.wait_for(world.emails["daughter"])
    assert "URGENT" in urgent[0]["Subject"]

    clock.set(datetime(2026, 11, 4, 6, 59, tzinfo=UTC))
    await dispatcher.run_once()
    assert len(smtp.to(world.emails["daughter"])) == 1
    clock.set(datetime(2026, 11, 4, 7, 0, tzinfo=UTC))
    await dispatcher.run_once()
    both = await smtp.wait_for(world.emails["daughter"], count=2)
    assert "For information" in both[1]["Subject"]


async def test_a_providers_working_alert_is_never_sent_to_the_family(
    pool: asyncpg.Pool,
    world: People,
    sinks: tuple[SmtpSink, HttpReceiver],
    clock: ManualClock,
    dispatcher: Dispatcher,
) -> None:
    smtp, _ = sinks
    everyone = {"targets": [{"kind": "circle"}, {"kind": "coordinators"}], "channels": ["email"]}
    named = {"targets": [{"kind": "user", "id": str(world.family1)}], "channels": ["email"]}
    policy = {"steps": [{**everyone, "wait_s": 60}, {**named, "wait_s": 60}]}
    async with pool.acquire() as conn:
        await set_policy(conn, org=world.org, home=world.home, policy=policy)
    await _raise(pool, world.home, kind="visit_late", severity="medium")
    for _ in range(3):
        await dispatcher.run_once()
        clock.advance(61)
    await smtp.wait_for(world.emails["coordinator"])
    assert smtp.to(world.emails["daughter"]) == [] and smtp.to(world.emails["son"]) == []
    async with pool.acquire() as conn:
        told = await conn.fetch("SELECT DISTINCT user_id FROM notification_deliveries")
    assert {r["user_id"] for r in told} == {world.coordinator}

    await _raise(pool, world.home, kind="visit_missed", severity="high")
    await dispatcher.run_once()
    await smtp.wait_for(world.emails["daughter"])  # a missed visit is the family's too


async def test_a_message_waiting_for_quiet_hours_to_end_is_not_sent_once_its_recipient_left_the_circle(
    pool: asyncpg.Pool,
    world: People,
    sinks: tuple[SmtpSink, HttpReceiver],
    clock: ManualClock,
    dispatcher: Dispatcher,
) -> None:
    """Rights end at once: what was queued for someone before they left is checked again as it goes."""
    smtp, _ = sinks
    night = datetime(2026, 11, 4, 2, 0, tzinfo=UTC)
    clock.set(night)
    await _quiet_nights_for_the_daughter(pool, world)
    alert = await _raise(pool, world.home, kind="low_battery", severity="low", at=night)
    await dispatcher.run_once()
    async with pool.acquire() as conn:
        waiting = await conn.fetchval(
            "SELECT count(*) FROM notification_deliveries WHERE alert_id = $1 AND user_id = $2",
            alert,
            world.family1,
        )
        assert waiting == 1
        await conn.execute(
            "DELETE FROM care_circles WHERE home_id = $1 AND user_id = $2", world.home, world.family1
        )
    clock.set(datetime(2026, 11, 4, 7, 0, tzinfo=UTC))
    await dispatcher.run_once()
    assert smtp.to(world.emails["daughter"]) == []
    async with pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT status, last_error FROM notification_deliveries WHERE alert_id = $1 AND user_id = $2",
            alert,
            world.family1,
        )
    assert row is not None and row["status"] == "cancelled"
    assert row["last_error"] == "the recipient may no longer see the home"
