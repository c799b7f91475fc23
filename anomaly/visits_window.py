"""What the detector takes from the visits: a checked-in visit is a carer window (the carer's movements
stay out of the resident's baseline, and the door and bathroom alerts their presence would cause are
not raised), and a missed visit at a home that is also quiet makes the inactivity alert more severe,
with both facts in its explanation.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg

from alerts import service as alerts
from anomaly.detector import Detector
from anomaly.model import Action, Raise, Window, ts
from visits import verification_queries as vq

# While still checked in, a visit's window runs to the later of its planned end and this long after the
# check-in, and never more than `open_max` (a forgotten check-out must not hide the resident for long).
_OPEN_MIN = timedelta(minutes=30)
_OPEN_MAX = timedelta(hours=3)
# A missed visit matters to a quiet home for this long after its planned start.
MISSED_RELEVANT = timedelta(hours=12)


@dataclass(slots=True, frozen=True)
class MissedVisit:
    """A visit nobody came to: its home, name and planned times."""

    home_id: UUID
    name: str
    planned_start: datetime
    planned_end: datetime


async def carer_windows(
    conn: asyncpg.Connection, *, since: datetime, grace_s: float
) -> list[tuple[UUID, Window]]:
    """Windows of the visits checked in at the home since `since` (the check-out plus a grace)."""
    out = []
    for row in await vq.checked_in_windows(conn, since=since):
        start = row["checked_in_at"]
        if row["checked_out_at"] is not None:
            end = row["checked_out_at"] + timedelta(seconds=grace_s)
        else:
            end = min(start + _OPEN_MAX, max(row["planned_end"], start + _OPEN_MIN))
        if end > start:
            out.append((row["home_id"], Window(start.timestamp(), end.timestamp(), "visit")))
    return out


async def missed_visits(conn: asyncpg.Connection, *, now: datetime) -> dict[UUID, list[MissedVisit]]:
    """The visits missed in the last hours, by home."""
    out: dict[UUID, list[MissedVisit]] = {}
    for row in await vq.missed_since(conn, since=now - MISSED_RELEVANT):
        visit = MissedVisit(row["home_id"], row["name"], row["planned_start"], row["planned_end"])
        out.setdefault(visit.home_id, []).append(visit)
    return out


def _during_quiet(missed: list[MissedVisit], quiet_since: float, now: float) -> list[MissedVisit]:
    """The missed visits planned after the last movement and over by now."""
    return [
        m for m in missed if m.planned_start.timestamp() >= quiet_since and m.planned_end.timestamp() <= now
    ]


def _last_movement(triggered_at: datetime, evidence: list[dict[str, Any]]) -> float | None:
    """When the home last moved: an inactivity alert is triggered its threshold after that."""
    limit = next((e["threshold_s"] for e in evidence if "threshold_s" in e), None)
    return None if limit is None else triggered_at.timestamp() - float(limit)


def _escalated(signal: alerts.Signal, missed: list[MissedVisit], tz: str) -> alerts.Signal:
    zone = ZoneInfo(tz)
    names = "; ".join(
        f"the {m.name} visit planned at {m.planned_start.astimezone(zone):%H:%M}" for m in missed
    )
    text = (
        f"{signal.explanation} No carer came either: {names} was missed, so nobody has seen the "
        "resident during this quiet spell."
    )
    evidence = [*signal.evidence, {"missed_visits": [m.planned_start.isoformat() for m in missed]}]
    return replace(signal, severity="critical", explanation=text, evidence=evidence)


def escalate(
    actions: list[Action], missed: dict[UUID, list[MissedVisit]], detector: Detector
) -> list[Action]:
    """Inactivity alerts of homes whose visit during the quiet spell was missed, made critical."""
    if not missed:
        return actions
    zones = {home_id: st.tz for home_id, st in detector.homes.items()}
    out: list[Action] = []
    for action in actions:
        sig = action.signal if isinstance(action, Raise) else None
        if sig is not None and sig.kind == "inactivity" and sig.home_id in missed:
            last = _last_movement(sig.triggered_at, sig.evidence)
            if last is not None:
                relevant = _during_quiet(missed[sig.home_id], last, action.at)
                if relevant:
                    action = Raise(_escalated(sig, relevant, zones.get(sig.home_id, "UTC")), action.at)
        out.append(action)
    return out


async def escalate_open(
    conn: asyncpg.Connection, missed: dict[UUID, list[MissedVisit]], zones: dict[UUID, str], *, now: datetime
) -> int:
    """An inactivity alert already open when the visit was missed is escalated now; returns how many."""
    if not missed:
        return 0
    rows = await conn.fetch(
        """
        SELECT * FROM alerts WHERE kind = 'inactivity' AND status <> 'resolved' AND severity <> 'critical'
          AND source = 'detector' AND home_id = ANY($1::uuid[])
        """,
        list(missed),
    )
    done = 0
    for row in rows:
        last = _last_movement(row["triggered_at"], row["evidence"])
        if last is None:
            continue
        relevant = _during_quiet(missed[row["home_id"]], last, now.timestamp())
        if relevant:
            sig = alerts.Signal(
                home_id=row["home_id"],
                kind="inactivity",
                severity="high",
                dedupe_key=row["dedupe_key"],
                triggered_at=row["triggered_at"],
                title=row["title"],
                explanation=row["explanation"],
                evidence=row["evidence"],
                room=row["room"],
            )
            await alerts.raise_or_update(conn, _escalated(sig, relevant, zones.get(row["home_id"], "UTC")))
            done += 1
    return done


async def housekeeping(
    conn: asyncpg.Connection, detector: Detector, now: float
) -> tuple[list[tuple[UUID, Window]], dict[UUID, list[MissedVisit]]]:
    """The detector's periodic read of the visits: carer windows of the last two days and the recently
    missed visits (escalating an inactivity alert already open at a home whose visit was missed)."""
    at = ts(now)
    windows = await carer_windows(conn, since=at - timedelta(days=2), grace_s=detector.cfg.carer_grace_s)
    missed = await missed_visits(conn, now=at)
    zones = {home_id: st.tz for home_id, st in detector.homes.items()}
    await escalate_open(conn, missed, zones, now=at)
    return windows, missed
