"""The detector's use of visits: checked-in visits are carer windows, and a missed visit at a quiet home
makes the inactivity alert critical with both facts in its explanation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from alerts import service as alerts
from anomaly import visits_window
from anomaly.config import DetectorConfig
from anomaly.detector import Detector
from anomaly.model import Raise, signal
from tests.visits.fixtures import check, make_home, make_visit

START = datetime(2026, 11, 3, 12, tzinfo=UTC)


def _inactivity(home_id: UUID, last: datetime, limit_s: float, now: datetime) -> Raise:
    evidence: list[dict[str, Any]] = [
        {"quiet_s": round((now - last).total_seconds())},
        {"threshold_s": limit_s},
    ]
    sig = signal(
        home_id,
        "inactivity",
        "high",
        "inactivity",
        last.timestamp() + limit_s,
        "No movement since 11:00",
        "No movement in the home since 11:00, 3 h.",
        evidence,
    )
    return Raise(sig, now.timestamp())


def test_a_missed_visit_during_the_quiet_spell_makes_inactivity_critical() -> None:
    detector = Detector(DetectorConfig())
    home = detector.add_home(uuid4(), "Europe/London").home_id
    last, now = START - timedelta(hours=1), START + timedelta(hours=2)
    missed = visits_window.MissedVisit(
        home, "Lunch call", START + timedelta(minutes=30), START + timedelta(minutes=50)
    )
    [out] = visits_window.escalate([_inactivity(home, last, 10800, now)], {home: [missed]}, detector)
    assert isinstance(out, Raise) and out.signal.severity == "critical"
    assert "No movement in the home since 11:00" in out.signal.explanation
    assert "the Lunch call visit planned at 12:30 was missed" in out.signal.explanation
    # A visit missed before the quiet spell began says nothing of it.
    early = visits_window.MissedVisit(
        home, "Breakfast", START - timedelta(hours=4), START - timedelta(hours=3)
    )
    [same] = visits_window.escalate([_inactivity(home, last, 10800, now)], {home: [early]}, detector)
    assert isinstance(same, Raise) and same.signal.severity == "high"


async def test_checked_in_visits_are_windows_and_open_alerts_are_escalated(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        home = await make_home(conn)
        done = await make_visit(conn, home, START)
        await check(conn, home, done, "check_in", START + timedelta(minutes=2), "tag")
        await check(conn, home, done, "check_out", START + timedelta(minutes=31), "tag")
        still = await make_visit(conn, home, START + timedelta(hours=2))
        await check(conn, home, still, "check_in", START + timedelta(hours=2), "phone")
        away = await make_visit(conn, home, START + timedelta(hours=4))
        await check(
            conn, home, away, "check_in", START + timedelta(hours=4), "phone", flags=["outside_geofence"]
        )
        windows = await visits_window.carer_windows(conn, since=START - timedelta(days=1), grace_s=300)
        spans = [(w.start, w.end) for _, w in windows]
        assert spans == [
            ((START + timedelta(minutes=2)).timestamp(), (START + timedelta(minutes=36)).timestamp()),
            ((START + timedelta(hours=2)).timestamp(), (START + timedelta(hours=2, minutes=30)).timestamp()),
        ]  # a check-in away from the home is no window

        missed = await make_visit(conn, home, START + timedelta(hours=6))
        await conn.execute("UPDATE visits SET status = 'missed' WHERE id = $1", missed)
        last = START + timedelta(hours=5)
        raised = _inactivity(home.home_id, last, 3600, last + timedelta(hours=1))
        await alerts.raise_or_update(conn, raised.signal)
        now = START + timedelta(hours=7)
        detector = Detector(DetectorConfig())
        detector.add_home(home.home_id, "Europe/London")
        _, by_home = await visits_window.housekeeping(conn, detector, now.timestamp())
        assert list(by_home) == [home.home_id]
        row = await conn.fetchrow("SELECT * FROM alerts WHERE kind = 'inactivity'")
        assert row["severity"] == "critical"
        assert "visit planned at 18:00 was missed" in row["explanation"]
        await visits_window.housekeeping(conn, detector, now.timestamp())
        assert await conn.fetchval("SELECT count(*) FROM alert_events WHERE action = 'escalated'") == 1
