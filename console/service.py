"""What each console screen shows, read through the viewer's scope from the owners' queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import orjson

from alerts import service as alerts
from alerts.service import AlertEvent
from anomaly import queries as detector_queries
from anomaly.state import HomeState, load_state
from console import heatmap, queries, timeline, visit_views
from console.session import Viewer
from console.summary import Summary, summarise
from devices import queries as device_queries
from homes import queries as home_queries
from homes.service import visible_home
from ingest import queries as readings


@dataclass(frozen=True, slots=True)
class HomeLine:
    """A home in the coordinator's list, with its state at a glance."""

    row: asyncpg.Record
    state: str  # 'alert', 'offline', 'battery', 'well'
    words: list[str]


@dataclass(frozen=True, slots=True)
class HomeDay:
    """A home's page: the day's timeline and everything beside it."""

    home: asyncpg.Record
    name: str
    day: date
    today: date
    line: timeline.Timeline
    month: heatmap.Heatmap
    temperatures: str  # JSON for the chart: {"rooms": [...], "t": [...], "series": [[...], ...]}
    latest_temps: list[tuple[str, float]]
    devices: list[asyncpg.Record]
    alerts: list[asyncpg.Record]  # the day's, and any still unresolved
    earlier: list[asyncpg.Record]  # the rest of the last 28 days
    summary: Summary
    visits: list[visit_views.VisitCard]  # the visits that happened around the day, newest first


async def board(conn: asyncpg.Connection, viewer: Viewer) -> tuple[list[asyncpg.Record], dict[UUID, Any]]:
    """The open alerts the viewer sees, and the staff each one may be given to (by organisation)."""
    rows = await queries.open_alerts(conn, scope=viewer.caller.scope, family=viewer.family)
    staff = {}
    for org in {r["organisation_id"] for r in rows}:
        staff[org] = await queries.staff(conn, organisation_id=org)
    return rows, staff


async def home_lines(conn: asyncpg.Connection, viewer: Viewer) -> list[HomeLine]:
    """The viewer's homes, each with its state at a glance."""
    lines = []
    for row in await queries.home_states(conn, scope=viewer.caller.scope):
        words = []
        if row["open_alerts"]:
            words.append(f"{row['open_alerts']} open alert{'s' if row['open_alerts'] > 1 else ''}")
        if row["offline"]:
            words.append(f"{row['offline']} device{'s' if row['offline'] > 1 else ''} offline")
        if row["low_battery"]:
            words.append(f"battery low on {row['low_battery']}")
        state = "alert" if row["open_alerts"] else "offline" if row["offline"] else "battery"
        if not words:
            state, words = "well", ["all well"]
        elif not row["open_alerts"] and not row["offline"]:
            state = "battery"
        lines.append(HomeLine(row, state, words))
    return lines


async def home_day(
    conn: asyncpg.Connection, viewer: Viewer, home_id: UUID, *, day: date | None, now: datetime
) -> HomeDay:
    """A home's page for one of its days (today by default); NotFound outside the viewer's scope."""
    home = await visible_home(conn, viewer.caller, home_id)
    tz = home["timezone"]
    today = timeline.home_day(now, tz)
    day = today if day is None or day > today or day < today - timedelta(days=366) else day
    start, end = timeline.day_bounds(day, tz)
    rows = await readings.select_activity(
        conn, home_id=home_id, start=start - timeline.LOOK_BACK, end=end, kinds=[*timeline.ACTIVITY_KINDS]
    )
    _, alert_rows = await home_alerts(conn, viewer, home_id, now=now)
    day_alerts, earlier = split_alerts(alert_rows, start, end)
    picture = await _picture(conn, home_id)
    name = await _resident_name(conn, home)
    temps = await _temperatures(conn, home_id, tz, now)
    cards = await visit_views.home_visits(conn, viewer, home, day=day, today=today, now=now)
    return HomeDay(
        home=home,
        name=name,
        day=day,
        today=today,
        line=timeline.build(
            day, tz, rows, day_alerts, visits=visit_views.on_timeline(cards, start, end, now), now=now
        ),
        month=await _heatmap(conn, home_id, tz, today, now),
        temperatures=temps,
        latest_temps=latest_temperatures(temps),
        devices=await device_queries.select_health(conn, home_id=home_id),
        alerts=day_alerts,
        earlier=earlier,
        summary=summarise(
            name,
            picture,
            [a for a in alert_rows if a["status"] != "resolved"],
            tz=tz,
            now=now,
            next_visit=visit_views.next_visit(cards, tz, now),
        ),
        visits=visit_views.happened(cards, now),
    )


async def _resident_name(conn: asyncpg.Connection, home: asyncpg.Record) -> str:
    residents = await home_queries.list_residents(conn, home_id=home["id"])
    if residents:
        return str(residents[0]["display_name"])
    return str(home["name"])


async def _picture(conn: asyncpg.Connection, home_id: UUID) -> HomeState | None:
    row = await detector_queries.home_picture(conn, home_id=home_id)
    if row is None:
        return None
    return load_state(home_id, _json(row["live"]), _json(row["baseline"]))


def _json(value: Any) -> Any:
    return orjson.loads(value) if isinstance(value, str | bytes) else value


async def _heatmap(
    conn: asyncpg.Connection, home_id: UUID, tz: str, today: date, now: datetime
) -> heatmap.Heatmap:
    start = timeline.day_bounds(today - timedelta(days=heatmap.DAYS - 1), tz)[0]
    shift = timedelta(hours=timeline.DAY_START.hour, minutes=timeline.DAY_START.minute)
    rows = await queries.hourly_activity(
        conn, home_id=home_id, tz=tz, day_start=shift, since=start, until=now + timedelta(hours=1)
    )
    return heatmap.from_hours(((r["day"], r["hour"], r["active"]) for r in rows), tz, today, now=now)


async def _temperatures(conn: asyncpg.Connection, home_id: UUID, tz: str, now: datetime) -> str:
    """The last 48 hours of room temperatures (hourly means) as the chart's JSON."""
    buckets = await readings.select_buckets(
        conn,
        home_id=home_id,
        start=now - timedelta(hours=48),
        end=now + timedelta(hours=1),
        bucket="hour",
        group="room",
        kind="temperature",
        device_id=None,
        room=None,
        limit=5_000,
    )
    rooms = sorted({b["room"] or "elsewhere" for b in buckets})
    times = sorted({b["bucket"] for b in buckets})
    index = {t: i for i, t in enumerate(times)}
    series: list[list[float | None]] = [[None] * len(times) for _ in rooms]
    for b in buckets:
        value = b["value_avg"]
        series[rooms.index(b["room"] or "elsewhere")][index[b["bucket"]]] = (
            round(value, 1) if value is not None else None
        )
    data = {"rooms": rooms, "t": [int(t.timestamp()) for t in times], "series": series, "tz": tz}
    # Read inside a <script type="application/json">: no "</script>" may come out of a room's name.
    return orjson.dumps(data).decode().replace("<", "\\u003c")


def latest_temperatures(chart_json: str) -> list[tuple[str, float]]:
    """Each room's latest hourly temperature, for the table beside the chart."""
    data = orjson.loads(chart_json)
    latest = []
    for room, values in zip(data["rooms"], data["series"], strict=True):
        known = [v for v in values if v is not None]
        if known:
            latest.append((room, known[-1]))
    return latest


def split_alerts(
    rows: list[asyncpg.Record], start: datetime, end: datetime
) -> tuple[list[asyncpg.Record], list[asyncpg.Record]]:
    """The alerts of a day and those still unresolved, and the others."""
    shown = [a for a in rows if start <= a["triggered_at"] < end or a["status"] != "resolved"]
    seen = {a["id"] for a in shown}
    return shown, [a for a in rows if a["id"] not in seen]


async def home_alerts(
    conn: asyncpg.Connection, viewer: Viewer, home_id: UUID, *, now: datetime
) -> tuple[asyncpg.Record, list[asyncpg.Record]]:
    """A home the viewer sees and its alerts of the last 28 days (the live part of its pages)."""
    home = await visible_home(conn, viewer.caller, home_id)
    today = timeline.home_day(now, home["timezone"])
    since = timeline.day_bounds(today - timedelta(days=heatmap.DAYS - 1), home["timezone"])[0]
    rows = await queries.home_alerts(
        conn, home_id=home_id, since=since, until=now + timedelta(1), family=viewer.family
    )
    return home, rows


async def audit_trail(
    conn: asyncpg.Connection, viewer: Viewer, alert_id: UUID
) -> tuple[asyncpg.Record, list[AlertEvent]]:
    """An alert the viewer sees and everything that happened to it; AlertNotFound otherwise."""
    await alerts.visible_alert(conn, scope=viewer.caller.scope, alert_id=alert_id, role=viewer.role)
    row = await queries.alert_with_names(conn, alert_id=alert_id)
    assert row is not None
    return row, await alerts.history(conn, alert_id=alert_id)


def now_utc() -> datetime:
    """The present, in UTC."""
    return datetime.now(UTC)
