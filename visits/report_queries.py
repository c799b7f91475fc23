"""SQL of the visit reports: one organisation's visits over a range of local dates, each with what a
report counts (times, methods, flags, carers, verdict), for a whole organisation, a home or a carer."""

from __future__ import annotations

from datetime import date
from uuid import UUID

import asyncpg


async def report_rows(
    conn: asyncpg.Connection,
    *,
    organisation_id: UUID,
    since: date,
    until: date,
    home_id: UUID | None = None,
    carer_id: UUID | None = None,
) -> list[asyncpg.Record]:
    """Visits (not cancelled) of the organisation with local dates in [since, until); a home's or a
    carer's only, if given. Carers are those who checked in, else those assigned."""
    return await conn.fetch(  # type: ignore[no-any-return]
        """
        WITH picked AS (
            SELECT v.* FROM visits v
            WHERE v.organisation_id = $1 AND v.local_date >= $2 AND v.local_date < $3
              -- a local date is within a day of its UTC instants: the range of the organisation's index
              AND v.planned_start >= ($2::date - 2)::timestamptz
              AND v.planned_start < ($3::date + 2)::timestamptz
              AND v.status <> 'cancelled'
              AND ($4::uuid IS NULL OR v.home_id = $4)
              AND ($5::uuid IS NULL OR EXISTS (
                    SELECT 1 FROM visit_assignments a WHERE a.visit_id = v.id AND a.carer_id = $5)
                   OR EXISTS (SELECT 1 FROM visit_events e WHERE e.visit_id = v.id AND e.carer_id = $5))
        )
        SELECT p.id, p.organisation_id, p.home_id, h.name AS home_name, p.planned_start,
               extract(epoch FROM p.planned_end - p.planned_start) / 60 AS planned_minutes,
               p.checked_in_at, p.checked_out_at, p.check_in_method, p.check_out_method,
               COALESCE(ev.flags, '{}') AS flags, ev.checked_by, vv.verdict,
               COALESCE((vv.evidence ->> 'corroborated')::boolean, false) AS corroborated,
               COALESCE((SELECT array_agg(a.carer_id) FROM visit_assignments a WHERE a.visit_id = p.id),
                        '{}') AS assigned
        FROM picked p JOIN homes h ON h.id = p.home_id
        LEFT JOIN visit_verifications vv ON vv.visit_id = p.id
        LEFT JOIN LATERAL (
            SELECT array_agg(DISTINCT f) FILTER (WHERE f IS NOT NULL) AS flags,
                   array_agg(DISTINCT e.carer_id)
                       FILTER (WHERE e.kind = 'check_in' AND e.carer_id IS NOT NULL) AS checked_by
            FROM visit_events e LEFT JOIN LATERAL unnest(e.flags) f ON true
            WHERE e.visit_id = p.id AND e.accepted
        ) ev ON true
        ORDER BY p.planned_start, p.id
        """,
        organisation_id,
        since,
        until,
        home_id,
        carer_id,
    )


async def carer_names(conn: asyncpg.Connection, *, organisation_id: UUID) -> dict[UUID, str]:
    """The names of the organisation's people, by id."""
    rows = await conn.fetch("SELECT id, name FROM users WHERE organisation_id = $1", organisation_id)
    return {r["id"]: r["name"] for r in rows}
