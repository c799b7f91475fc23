"""The family's daily digest (email): how the day went, from the detector's daily features, the day's
alerts and how they ended, and a small chart of the day's activity.

Sections are small functions in SECTIONS, each returning its lines or nothing; the carers' visits (issue
14) become one more such function once the visits tables exist (`_visits` below looks for them).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg

from anomaly.clock import duration, hhmm
from anomaly.state import Day, load_state
from notifications import queries
from notifications.chart import activity_png
from notifications.clock import Clock
from notifications.messages import Message, local_time, render

log = logging.getLogger(__name__)
_EPOCH = date(1970, 1, 1)
_CHART_CID = "activity-chart"


@dataclass(frozen=True, slots=True)
class Section:
    """A heading and its lines."""

    title: str
    lines: list[str]


@dataclass(frozen=True, slots=True)
class DigestDay:
    """The home and local day a digest is about."""

    home_id: UUID
    day: date
    tz: str
    start: datetime
    end: datetime


def _day_lines(day: Day | None) -> list[str]:
    if day is None or day.activity == 0:
        return ["No activity was recorded today (the sensors may be offline, or the home empty)."]
    lines = [f"Up at {hhmm(day.wake)}." if day.wake is not None else "No getting-up time was seen yet."]
    lines.append(f"{day.meals} meal{'s' if day.meals != 1 else ''} prepared in the kitchen.")
    if day.out_min >= 1:
        lines.append(f"Out of the house for {duration(day.out_min * 60)}.")
    lines.append(f"{day.night_toilet} toilet visit{'s' if day.night_toilet != 1 else ''} in the night.")
    return lines


async def _features(conn: asyncpg.Connection, d: DigestDay) -> list[str]:
    row = await conn.fetchrow("SELECT live, baseline FROM detector_homes WHERE home_id = $1", d.home_id)
    number = (d.day - _EPOCH).days
    found: Day | None = None
    if row is not None:
        state = load_state(d.home_id, row["live"], row["baseline"])
        found = next((x for x in [state.today, *state.baseline.days] if x.day == number), None)
    return _day_lines(found)


async def _alerts(conn: asyncpg.Connection, d: DigestDay) -> list[str]:
    rows = await conn.fetch(
        """
        SELECT title, severity, status, triggered_at, acknowledged_at, resolution FROM alerts
        WHERE home_id = $1 AND triggered_at >= $2 AND triggered_at < $3 ORDER BY triggered_at
        """,
        d.home_id,
        d.start,
        d.end,
    )
    if not rows:
        return ["No alerts today."]
    lines = []
    for r in rows:
        ended = {"open": "still open", "acknowledged": "being dealt with"}.get(r["status"], "")
        if r["status"] == "resolved":
            ended = {"false_alarm": "a false alarm", "cleared": "cleared by itself"}.get(
                r["resolution"], "handled"
            )
        at = r["triggered_at"].astimezone(ZoneInfo(d.tz))
        lines.append(f"{at:%H:%M} {r['title']} ({r['severity']}): {ended}.")
    return lines


async def _visits(conn: asyncpg.Connection, d: DigestDay) -> list[str]:
    # Issue 14's visits: until its tables exist there is nothing to say; a later change fills this in.
    if await conn.fetchval("SELECT to_regclass('visits')") is None:
        return []
    return []


SECTIONS: list[tuple[str, Callable[[asyncpg.Connection, DigestDay], Awaitable[list[str]]]]] = [
    ("The day", _features),
    ("Carers' visits", _visits),
    ("Alerts", _alerts),
]


async def _hourly(conn: asyncpg.Connection, d: DigestDay) -> list[int]:
    rows = await conn.fetch(
        """
        SELECT extract(hour FROM time AT TIME ZONE $4)::int AS hour, count(*) AS n FROM readings
        WHERE home_id = $1 AND time >= $2 AND time < $3 AND coalesce(value, 0) > 0 GROUP BY 1
        """,
        d.home_id,
        d.start,
        d.end,
        d.tz,
    )
    counts = [0] * 24
    for r in rows:
        counts[r["hour"]] = int(r["n"])
    return counts


async def digest_message(conn: asyncpg.Connection, row: asyncpg.Record) -> Message:
    """The digest a queued digest delivery carries, built when it is sent."""
    payload = row["payload"]
    home = await conn.fetchrow("SELECT name, timezone FROM homes WHERE id = $1", UUID(payload["home_id"]))
    tz = home["timezone"]
    day = date.fromisoformat(payload["day"])
    start = datetime.combine(day, time(0), tzinfo=ZoneInfo(tz))
    d = DigestDay(UUID(payload["home_id"]), day, tz, start, start + timedelta(days=1))
    sections = []
    for title, build in SECTIONS:
        lines = await build(conn, d)
        if lines:
            sections.append(Section(title, lines))
    context: dict[str, Any] = {
        "home": home["name"],
        "day_words": f"{day:%A} {day.day} {day:%B}",
        "until": local_time(row["created_at"], tz),
        "sections": sections,
        "chart_cid": _CHART_CID,
    }
    chart = activity_png(await _hourly(conn, d))
    return Message(
        subject=render("digest.subject.txt", **context),
        text=render("digest.txt", **context),
        html=render("digest.html", **context),
        data={"event": "digest", "home_id": payload["home_id"], "day": payload["day"]},
        images=((_CHART_CID, chart, "png"),),
    )


async def queue_digests(conn: asyncpg.Connection, *, at: datetime) -> int:
    """Queue today's digest for each family member whose digest hour has come (once a person, home, day)."""
    rows = await conn.fetch(
        """
        SELECT c.user_id, c.home_id, h.timezone AS home_tz, p.timezone, coalesce(p.digest_hour, 19) AS hour,
               cp.id AS point_id, cp.address
        FROM care_circles c JOIN users u ON u.id = c.user_id AND u.active
        JOIN homes h ON h.id = c.home_id
        LEFT JOIN notification_preferences p ON p.user_id = c.user_id
        JOIN LATERAL (SELECT id, address FROM notification_contact_points
                      WHERE user_id = c.user_id AND channel = 'email' AND verified_at IS NOT NULL
                      ORDER BY verified_at DESC LIMIT 1) cp ON true
        WHERE c.receives_alerts AND coalesce(p.daily_digest, true)
        """
    )
    queued = 0
    for r in rows:
        local = at.astimezone(ZoneInfo(r["timezone"] or r["home_tz"]))
        if local.hour < r["hour"]:
            continue
        key = f"user:{r['user_id']}:home:{r['home_id']}:{local.date().isoformat()}"
        new = await queries.insert_delivery(
            conn,
            purpose="digest",
            recipient=f"user:{r['user_id']}",
            user_id=r["user_id"],
            contact_point_id=r["point_id"],
            channel="email",
            address=r["address"],
            payload={"home_id": str(r["home_id"]), "day": local.date().isoformat()},
            next_attempt_at=at,
            created_at=at,
            digest_key=key,
        )
        if new is not None:
            await queries.log_attempt(conn, delivery_id=new, at=at, event="queued", detail="daily digest")
            queued += 1
    return queued


async def schedule_digests(pool: asyncpg.Pool, *, every_s: float, clock: Clock) -> None:
    """Queue due digests now and then every `every_s` until cancelled."""
    while True:
        try:
            async with pool.acquire() as conn:
                await queue_digests(conn, at=clock.now())
        except (asyncpg.PostgresError, OSError) as exc:
            log.warning("queueing daily digests failed, will retry: %s", exc)
        await asyncio.sleep(every_s)
