"""Check-in SQL: tags to carers, the visit a tag tap belongs to, open check-ins, settling a visit."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg


async def open_visit_of(conn: asyncpg.Connection, *, carer_id: UUID, home_id: UUID) -> asyncpg.Record | None:
    """The carer's visit at the home they are checked in to and not yet out of, latest first; or None."""
    return await conn.fetchrow(
        """
        SELECT v.*, last_in.event_time AS carer_checked_in_at FROM visits v
        JOIN LATERAL (
            SELECT e.event_time FROM visit_events e
            WHERE e.visit_id = v.id AND e.carer_id = $1 AND e.accepted AND e.kind = 'check_in'
            ORDER BY e.event_time DESC LIMIT 1
        ) last_in ON true
        WHERE v.home_id = $2 AND v.status = 'in_progress'
          AND NOT EXISTS (SELECT 1 FROM visit_events o WHERE o.visit_id = v.id AND o.carer_id = $1
                          AND o.accepted AND o.kind = 'check_out' AND o.event_time >= last_in.event_time)
        ORDER BY last_in.event_time DESC LIMIT 1
        """,
        carer_id,
        home_id,
    )


async def due_visit_of(
    conn: asyncpg.Connection, *, carer_id: UUID, home_id: UUID, at: datetime, early: timedelta
) -> asyncpg.Record | None:
    """The carer's visit at the home a check-in at `at` belongs to: due (from `early` before its start)
    and not over (until two hours after its planned end), not cancelled or completed; nearest start first."""
    return await conn.fetchrow(
        """
        SELECT v.* FROM visits v JOIN visit_assignments a ON a.visit_id = v.id AND a.carer_id = $1
        WHERE v.home_id = $2 AND v.status IN ('planned', 'in_progress', 'missed')
          AND v.planned_start - $4::interval <= $3 AND v.planned_end + interval '2 hours' >= $3
        ORDER BY abs(extract(epoch FROM v.planned_start - $3)) LIMIT 1
        """,
        carer_id,
        home_id,
        at,
        early,
    )


async def has_visit_on(conn: asyncpg.Connection, *, carer_id: UUID, home_id: UUID, local_date: date) -> bool:
    """Whether the carer is assigned to a visit at the home on that local date."""
    found = await conn.fetchval(
        """
        SELECT true FROM visits v JOIN visit_assignments a ON a.visit_id = v.id AND a.carer_id = $1
        WHERE v.home_id = $2 AND v.local_date = $3 LIMIT 1
        """,
        carer_id,
        home_id,
        local_date,
    )
    return bool(found)


async def checked_in_elsewhere(
    conn: asyncpg.Connection, *, carer_id: UUID, home_id: UUID, at: datetime
) -> asyncpg.Record | None:
    """A visit at another home the carer was checked in to, and not out of, at `at`; or None."""
    return await conn.fetchrow(
        """
        SELECT v.id, v.home_id, i.event_time AS since FROM visit_events i JOIN visits v ON v.id = i.visit_id
        WHERE i.carer_id = $1 AND i.accepted AND i.kind = 'check_in' AND v.home_id <> $2
          AND i.event_time <= $3 AND v.status IN ('in_progress', 'completed')
          AND NOT EXISTS (SELECT 1 FROM visit_events o WHERE o.visit_id = v.id AND o.carer_id = $1
                          AND o.accepted AND o.kind = 'check_out'
                          AND o.event_time >= i.event_time AND o.event_time <= $3)
        ORDER BY i.event_time DESC LIMIT 1
        """,
        carer_id,
        home_id,
        at,
    )


async def accepted_events(conn: asyncpg.Connection, *, visit_id: UUID) -> list[asyncpg.Record]:
    """A visit's accepted check-ins and check-outs, by event time."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT carer_id, kind, method, event_time, flags FROM visit_events
        WHERE visit_id = $1 AND accepted ORDER BY event_time, created_at
        """,
        visit_id,
    )
    return rows


async def settle_visit(
    conn: asyncpg.Connection,
    *,
    visit_id: UUID,
    checked_in_at: datetime | None,
    check_in_method: str | None,
    checked_out_at: datetime | None,
    check_out_method: str | None,
    status: str,
    event_flags: list[str] | None = None,
    checked_in_by: list[UUID] | None = None,
) -> asyncpg.Record:
    """Store what a visit's accepted events add up to (with their flags and who checked in, for the
    reports, when given); returns the row."""
    row: asyncpg.Record = await conn.fetchrow(
        """
        UPDATE visits SET checked_in_at = $2, check_in_method = $3, checked_out_at = $4,
                          check_out_method = $5, status = $6,
                          status_reason = CASE WHEN $6 = status THEN status_reason ELSE '' END,
                          event_flags = COALESCE($7::text[], event_flags),
                          checked_in_by = COALESCE($8::uuid[], checked_in_by),
                          updated_at = now()
        WHERE id = $1 RETURNING *
        """,
        visit_id,
        checked_in_at,
        check_in_method,
        checked_out_at,
        check_out_method,
        status,
        event_flags,
        checked_in_by,
    )
    return row


async def home_of(conn: asyncpg.Connection, *, home_id: UUID) -> asyncpg.Record | None:
    """The home's organisation, zone, location and geofence radius."""
    return await conn.fetchrow(
        "SELECT id, organisation_id, timezone, latitude, longitude, geofence_m, name FROM homes "
        "WHERE id = $1",
        home_id,
    )


async def insert_event(conn: asyncpg.Connection, **columns: Any) -> asyncpg.Record | None:
    """Record a check-in or check-out (columns of visit_events); None if its tag reading was recorded."""
    names = list(columns)
    placeholders = ", ".join(f"${i}" for i in range(1, len(names) + 1))
    return await conn.fetchrow(
        f"""
        INSERT INTO visit_events ({", ".join(names)}) VALUES ({placeholders})
        ON CONFLICT (device_id, reading_seq) WHERE device_id IS NOT NULL DO NOTHING
        RETURNING *
        """,
        *columns.values(),
    )


async def visit_events(conn: asyncpg.Connection, *, visit_id: UUID) -> list[asyncpg.Record]:
    """A visit's check-ins and check-outs, by event time."""
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT * FROM visit_events WHERE visit_id = $1 ORDER BY event_time, created_at", visit_id
    )
    return rows
