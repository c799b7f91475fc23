"""SQL of the verification job and the detector's view of visits: the visits due a verdict, everything a
verdict is judged from (the visit, its accepted check-in and check-out, tasks, the home's kit and its
readings), and the carer windows and missed visits the detector reads."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

# Readings that show someone at home (the door, motion, pads, flushes, appliances).
ACTIVITY_KINDS = ["motion", "contact", "occupancy", "flush", "power"]


async def due_for_verdict(
    conn: asyncpg.Connection, *, now: datetime, settle_s: float, limit: int
) -> list[asyncpg.Record]:
    """Visits due a (new) verdict: checked out `settle_s` ago (the departure door has had its time),
    still checked in past the plan's no-check-out limit, or missed; and not judged since they changed."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT v.id FROM visits v
        LEFT JOIN care_plans p ON p.id = v.plan_id
        LEFT JOIN visit_verifications vv ON vv.visit_id = v.id
        WHERE v.status IN ('completed', 'in_progress', 'missed')
          AND (vv.visit_id IS NULL OR vv.computed_at < v.updated_at)
          AND CASE v.status
                WHEN 'completed' THEN v.checked_out_at <= $1::timestamptz - make_interval(secs => $2::float8)
                WHEN 'in_progress' THEN v.planned_end
                    + make_interval(mins => COALESCE(p.no_checkout_after_minutes, 60)) <= $1::timestamptz
                ELSE true
              END
        ORDER BY v.planned_start LIMIT $3
        """,
        now,
        settle_s,
        limit,
    )
    return rows


async def visit_for_verdict(conn: asyncpg.Connection, *, visit_id: UUID) -> asyncpg.Record | None:
    """A visit with its home (name, zone, geofence), plan name, tasks and carers' names."""
    return await conn.fetchrow(
        """
        SELECT v.*, h.name AS home_name, h.timezone, h.geofence_m, p.name AS plan_name,
               p.late_after_minutes, p.short_below_percent,
               COALESCE((SELECT array_agg(u.name ORDER BY u.name) FROM visit_assignments a
                         JOIN users u ON u.id = a.carer_id WHERE a.visit_id = v.id), '{}') AS carer_names,
               COALESCE((SELECT jsonb_agg(jsonb_build_object('task', t.task, 'status', t.status,
                                                             'note', t.note) ORDER BY t.position)
                         FROM visit_tasks t WHERE t.visit_id = v.id), '[]') AS tasks
        FROM visits v JOIN homes h ON h.id = v.home_id
        LEFT JOIN care_plans p ON p.id = v.plan_id
        WHERE v.id = $1
        """,
        visit_id,
    )


async def accepted_checks(conn: asyncpg.Connection, *, visit_id: UUID) -> list[asyncpg.Record]:
    """The visit's accepted check-in and check-out events, with their carers' names."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT e.kind, e.method, e.event_time, e.arrival_time, e.distance_m, e.accuracy_m, e.flags,
               e.device_id, u.name AS carer_name
        FROM visit_events e LEFT JOIN users u ON u.id = e.carer_id
        WHERE e.visit_id = $1 AND e.accepted ORDER BY e.event_time
        """,
        visit_id,
    )
    return rows


async def home_kit(conn: asyncpg.Connection, *, home_id: UUID) -> list[asyncpg.Record]:
    """The home's devices in service: id, type, room and role."""
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT id, type, room, role FROM devices WHERE home_id = $1 AND status <> 'decommissioned'",
        home_id,
    )
    return rows


async def home_readings(
    conn: asyncpg.Connection, *, home_id: UUID, since: datetime, until: datetime
) -> list[asyncpg.Record]:
    """The home's activity readings (event time) in [since, until]."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT time, received_at, device_id, kind, value FROM readings
        WHERE home_id = $1 AND time >= $2 AND time <= $3 AND kind = ANY($4::text[])
        ORDER BY time
        """,
        home_id,
        since,
        until,
        ACTIVITY_KINDS,
    )
    return rows


async def checked_in_windows(conn: asyncpg.Connection, *, since: datetime) -> list[asyncpg.Record]:
    """Visits checked in at the home (not flagged away from it) that were under way after `since`:
    home, check-in, check-out (NULL while still checked in) and planned end."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT v.home_id, v.checked_in_at, v.checked_out_at, v.planned_start, v.planned_end FROM visits v
        WHERE v.checked_in_at IS NOT NULL AND COALESCE(v.checked_out_at, 'infinity') > $1
          AND v.status IN ('in_progress', 'completed')
          AND NOT EXISTS (SELECT 1 FROM visit_events e WHERE e.visit_id = v.id AND e.accepted
                          AND e.kind = 'check_in'
                          AND e.flags && ARRAY['outside_geofence', 'wrong_home', 'not_assigned'])
        ORDER BY v.checked_in_at
        """,
        since,
    )
    return rows


async def missed_since(conn: asyncpg.Connection, *, since: datetime) -> list[asyncpg.Record]:
    """Visits marked missed whose planned start is after `since`: home, plan name, planned times."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT v.id, v.home_id, v.planned_start, v.planned_end, COALESCE(p.name, v.service_type) AS name
        FROM visits v LEFT JOIN care_plans p ON p.id = v.plan_id
        WHERE v.status = 'missed' AND v.planned_start >= $1 ORDER BY v.planned_start
        """,
        since,
    )
    return rows


async def clock_offsets(
    conn: asyncpg.Connection, *, home_id: UUID, since: datetime, until: datetime
) -> dict[UUID, tuple[float, float, float]]:
    """Each device's arrival minus event time over [since, until], in seconds: its quartiles and median."""
    rows = await conn.fetch(
        """
        SELECT device_id,
               percentile_cont(ARRAY[0.25, 0.5, 0.75]) WITHIN GROUP (
                   ORDER BY extract(epoch FROM received_at - time)) AS lags
        FROM readings WHERE home_id = $1 AND time >= $2 AND time <= $3 GROUP BY device_id
        """,
        home_id,
        since,
        until,
    )
    return {r["device_id"]: (float(r["lags"][0]), float(r["lags"][1]), float(r["lags"][2])) for r in rows}
