"""The console's own reads: joins of several owners' tables for one screen, always through a Scope."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

import asyncpg

from accounts.tenancy import Scope
from alerts.queries import for_family

_ALERT_COLUMNS = """
    a.id, a.home_id, a.organisation_id, a.kind, a.severity, a.status, a.title, a.explanation, a.room,
    a.triggered_at, a.last_seen_at, a.occurrences, a.assigned_to, a.acknowledged_at, a.acknowledged_by,
    a.resolved_at, a.resolution, a.resolution_note, a.version, h.name AS home_name, h.timezone,
    assignee.name AS assignee_name, acker.name AS acknowledged_by_name, resolver.name AS resolved_by_name
"""
_ALERT_JOINS = """
    JOIN homes h ON h.id = a.home_id
    LEFT JOIN users assignee ON assignee.id = a.assigned_to
    LEFT JOIN users acker ON acker.id = a.acknowledged_by
    LEFT JOIN users resolver ON resolver.id = a.resolved_by
"""
_SEVERITY_ORDER = "array_position(ARRAY['critical','high','medium','low'], a.severity)"


def _kinds(family: bool) -> str:
    # A family member sees the kinds for everyone only, as on every other route (alerts.queries).
    return f"AND {for_family('a.kind')}" if family else ""


async def open_alerts(
    conn: asyncpg.Connection, *, scope: Scope, family: bool = False, limit: int = 200
) -> list[asyncpg.Record]:
    """Unresolved alerts the scope sees (a family member: the kinds for everyone), most severe then
    newest first, with home and people's names."""
    where, args = scope.where(org_column="a.organisation_id", home_column="a.home_id", param=2)
    rows: list[asyncpg.Record] = await conn.fetch(
        f"""
        SELECT {_ALERT_COLUMNS} FROM alerts a {_ALERT_JOINS}
        WHERE a.status <> 'resolved' AND {where} {_kinds(family)}
        ORDER BY {_SEVERITY_ORDER}, a.triggered_at DESC, a.id DESC LIMIT $1
        """,
        limit,
        *args,
    )
    return rows


async def home_alerts(
    conn: asyncpg.Connection,
    *,
    home_id: UUID,
    since: object,
    until: object,
    family: bool = False,
    limit: int = 100,
) -> list[asyncpg.Record]:
    """One home's alerts triggered in [since, until) (a family member: the kinds for everyone), newest
    first, with people's names."""
    rows: list[asyncpg.Record] = await conn.fetch(
        f"""
        SELECT {_ALERT_COLUMNS} FROM alerts a {_ALERT_JOINS}
        WHERE a.home_id = $1 AND a.triggered_at >= $2 AND a.triggered_at < $3 {_kinds(family)}
        ORDER BY a.triggered_at DESC, a.id DESC LIMIT $4
        """,
        home_id,
        since,
        until,
        limit,
    )
    return rows


async def alert_with_names(conn: asyncpg.Connection, *, alert_id: UUID) -> asyncpg.Record | None:
    """One alert with home and people's names (the caller has checked it is visible)."""
    return await conn.fetchrow(
        f"SELECT {_ALERT_COLUMNS} FROM alerts a {_ALERT_JOINS} WHERE a.id = $1", alert_id
    )


async def home_states(conn: asyncpg.Connection, *, scope: Scope, limit: int = 500) -> list[asyncpg.Record]:
    """The homes the scope sees, each with what a coordinator needs at a glance."""
    where, args = scope.where(org_column="h.organisation_id", home_column="h.id", param=2)
    rows: list[asyncpg.Record] = await conn.fetch(
        f"""
        SELECT h.id, h.name, h.timezone, h.organisation_id,
               (SELECT string_agg(r.display_name, ', ' ORDER BY r.created_at) FROM residents r
                 WHERE r.home_id = h.id) AS residents,
               coalesce(al.open, 0) AS open_alerts, al.worst,
               coalesce(dv.offline, 0) AS offline, coalesce(dv.low_battery, 0) AS low_battery,
               coalesce(dv.devices, 0) AS devices, dv.last_seen
        FROM homes h
        LEFT JOIN LATERAL (
            SELECT count(*) AS open,
                   (array_agg(a.severity ORDER BY {_SEVERITY_ORDER}))[1] AS worst
            FROM alerts a WHERE a.home_id = h.id AND a.status <> 'resolved'
        ) al ON true
        LEFT JOIN LATERAL (
            SELECT count(*) AS devices,
                   count(*) FILTER (WHERE NOT coalesce(dh.online, false)) AS offline,
                   count(*) FILTER (WHERE coalesce(dh.low_battery, false)) AS low_battery,
                   max(dh.last_seen_at) AS last_seen
            FROM devices d LEFT JOIN device_health dh ON dh.device_id = d.id
            WHERE d.home_id = h.id AND d.status <> 'decommissioned'
        ) dv ON true
        WHERE {where}
        ORDER BY coalesce(al.open, 0) = 0, h.name, h.id LIMIT $1
        """,
        limit,
        *args,
    )
    return rows


async def staff(conn: asyncpg.Connection, *, organisation_id: UUID) -> list[asyncpg.Record]:
    """Active coordinators and carers of an organisation (whom an alert may be given to)."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT id, name, email, role FROM users
        WHERE organisation_id = $1 AND active AND role IN ('coordinator', 'carer')
        ORDER BY role, name, id LIMIT 500
        """,
        organisation_id,
    )
    return rows


async def verdicts(conn: asyncpg.Connection, *, visit_ids: list[UUID]) -> dict[UUID, asyncpg.Record]:
    """The verification job's verdict and reasons of each of these visits that has one."""
    rows = await conn.fetch(
        """
        SELECT visit_id, verdict, COALESCE(reasons, '[]') AS reasons FROM visit_verifications
        WHERE visit_id = ANY($1::uuid[])
        """,
        visit_ids,
    )
    return {r["visit_id"]: r for r in rows}


async def homes_by_id(conn: asyncpg.Connection, *, home_ids: list[UUID]) -> dict[UUID, asyncpg.Record]:
    """Name, clock and address of these homes (the caller's visits have already been scoped)."""
    rows = await conn.fetch(
        """
        SELECT h.id, h.name, h.timezone, h.address,
               (SELECT r.display_name FROM residents r WHERE r.home_id = h.id
                 ORDER BY r.created_at LIMIT 1) AS resident
        FROM homes h WHERE h.id = ANY($1::uuid[])
        """,
        home_ids,
    )
    return {r["id"]: r for r in rows}


async def hourly_activity(
    conn: asyncpg.Connection,
    *,
    home_id: UUID,
    tz: str,
    day_start: timedelta,
    since: datetime,
    until: datetime,
) -> list[asyncpg.Record]:
    """A home's motion activity summed per home day and hour of it (the heatmap's cells), from the hourly
    aggregate: summed and put on the home's clock here, a few hundred rows instead of one per room-hour."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT ((r.bucket AT TIME ZONE $2) - $3::interval)::date AS day,
               extract(hour FROM (r.bucket AT TIME ZONE $2) - $3::interval)::int AS hour,
               sum(r.active)::bigint AS active
        FROM readings_hourly r
        WHERE r.home_id = $1 AND r.bucket >= $4 AND r.bucket < $5 AND r.kind = 'motion'
        GROUP BY 1, 2
        """,
        home_id,
        tz,
        day_start,
        since,
        until,
    )
    return rows
