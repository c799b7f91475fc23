"""The alert lifecycle against a real database: fold, escalate, acknowledge, resolve, history, notify."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from uuid import UUID

import asyncpg
import orjson
import pytest

from alerts import queries, service
from alerts.errors import AlertNotFound, AlertStateError
from alerts.service import Actor, Signal
from homes import queries as home_queries

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
NURSE = Actor("user", UUID(int=7), "Nurse Ada")


async def _home(pool: asyncpg.Pool) -> UUID:
    async with pool.acquire() as conn:
        org = await home_queries.insert_organisation(conn, name="Org")
        return await home_queries.insert_home(conn, organisation_id=org, name="Home")


def _signal(home: UUID, *, severity: str = "high", at: datetime = T0, key: str = "inactivity") -> Signal:
    return Signal(
        home_id=home,
        kind="inactivity",
        severity=severity,  # type: ignore[arg-type]
        dedupe_key=key,
        triggered_at=at,
        title="No movement",
        explanation="no movement since 09:00",
        evidence=[{"room": "kitchen", "last": at.isoformat()}],
    )


async def test_a_continuing_condition_is_one_alert(pool: asyncpg.Pool) -> None:
    home = await _home(pool)
    async with pool.acquire() as conn:
        first = await service.raise_or_update(conn, _signal(home))
        again = await service.raise_or_update(conn, _signal(home, at=T0 + timedelta(minutes=10)))
        worse = await service.raise_or_update(conn, _signal(home, severity="critical"))
        milder = await service.raise_or_update(conn, _signal(home, severity="low"))
        assert [first.action, again.action, worse.action, milder.action] == [
            "raised",
            "updated",
            "escalated",
            "updated",
        ]
        assert first.alert.id == again.alert.id == milder.alert.id
        assert milder.alert.severity == "critical"  # never lowered while open
        assert milder.alert.occurrences == 4 and milder.alert.version == 4
        assert milder.alert.last_seen_at == T0 + timedelta(minutes=10)
        assert milder.alert.evidence == [{"room": "kitchen", "last": T0.isoformat()}]


async def test_lifecycle_and_history(pool: asyncpg.Pool) -> None:
    home = await _home(pool)
    async with pool.acquire() as conn:
        alert = (await service.raise_or_update(conn, _signal(home))).alert
        acked = await service.acknowledge(conn, alert_id=alert.id, actor=NURSE, note="calling her")
        assert acked.status == "acknowledged" and acked.acknowledged_by == NURSE.id
        assert (await service.acknowledge(conn, alert_id=alert.id, actor=NURSE)).version == acked.version
        await service.assign(conn, alert_id=alert.id, actor=NURSE, assignee=UUID(int=9))
        done = await service.resolve(
            conn, alert_id=alert.id, actor=NURSE, note="she was fine", false_alarm=True
        )
        assert done.status == "resolved" and done.resolution == "false_alarm"
        with pytest.raises(AlertStateError):
            await service.acknowledge(conn, alert_id=alert.id, actor=NURSE)
        with pytest.raises(AlertNotFound):
            await service.resolve(conn, alert_id=UUID(int=1), actor=NURSE, note="x")
        steps = await service.history(conn, alert_id=alert.id)
        assert [(s.action, s.actor_name) for s in steps] == [
            ("raised", "detector"),
            ("acknowledged", "Nurse Ada"),
            ("assigned", "Nurse Ada"),
            ("resolved", "Nurse Ada"),
        ]
        assert steps[1].detail == {"note": "calling her"}
        # After resolution the same condition opens a new alert.
        assert (await service.raise_or_update(conn, _signal(home))).action == "raised"


async def test_clearing_resolves_only_the_open_condition(pool: asyncpg.Pool) -> None:
    home = await _home(pool)
    async with pool.acquire() as conn:
        assert await service.clear(conn, home_id=home, dedupe_key="inactivity", at=T0, note="x") is None
        await service.raise_or_update(conn, _signal(home))
        cleared = await service.clear(conn, home_id=home, dedupe_key="inactivity", at=T0, note="movement")
        assert cleared is not None and cleared.resolution == "cleared" and cleared.resolved_by is None


async def test_listeners_hear_committed_changes_only(pool: asyncpg.Pool) -> None:
    home = await _home(pool)
    heard: asyncio.Queue[dict[str, object]] = asyncio.Queue()

    def on_change(*args: object) -> None:
        heard.put_nowait(orjson.loads(str(args[3])))

    async with pool.acquire() as listener, pool.acquire() as conn:
        await listener.add_listener(queries.CHANNEL, on_change)
        try:
            with pytest.raises(RuntimeError):
                async with conn.transaction():
                    await service.raise_or_update(conn, _signal(home, key="rolled-back"))
                    raise RuntimeError("roll back")
            change = await service.raise_or_update(conn, _signal(home))
            message = await asyncio.wait_for(heard.get(), 5)
            assert message["id"] == str(change.alert.id) and message["action"] == "raised"
            assert message["version"] == 1 and heard.empty()
        finally:
            await listener.remove_listener(queries.CHANNEL, on_change)
