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
    # One pass over the range's visits (migration 0021 keeps their events' flags and who checked in on
    # them); the assigned carers are looked up only for a visit nobody checked in to. A plan too cheap
    # to be worth compiling: JIT spent more time than it saved.
    async with conn.transaction():
        await conn.execute("SET LOCAL jit = off")
        return await conn.fetch(  # type: ignore[no-any-return]
            """
            SELECT v.id, v.organisation_id, v.home_id, h.name AS home_name, v.planned_start,
                   extract(epoch FROM v.planned_end - v.planned_start) / 60 AS planned_minutes,
                   v.checked_in_at, v.checked_out_at, v.check_in_method, v.check_out_method,
                   v.event_flags AS flags, v.checked_in_by AS checked_by, vv.verdict,
                   COALESCE((vv.evidence ->> 'corroborated')::boolean, false) AS corroborated,
                   CASE WHEN cardinality(v.checked_in_by) = 0 THEN COALESCE(
                       (SELECT array_agg(a.carer_id) FROM visit_assignments a WHERE a.visit_id = v.id),
                       '{}') ELSE '{}' END AS assigned
            FROM visits v JOIN homes h ON h.id = v.home_id
            LEFT JOIN visit_verifications vv ON vv.visit_id = v.id
            WHERE v.organisation_id = $1 AND v.local_date >= $2 AND v.local_date < $3
              -- a local date is within a day of its UTC instants: the range of the organisation's index
              AND v.planned_start >= ($2::date - 2)::timestamptz
              AND v.planned_start < ($3::date + 2)::timestamptz
              AND v.status <> 'cancelled'
              AND ($4::uuid IS NULL OR v.home_id = $4)
              AND ($5::uuid IS NULL OR $5 = ANY(v.checked_in_by) OR EXISTS (
                    SELECT 1 FROM visit_assignments a WHERE a.visit_id = v.id AND a.carer_id = $5))
            ORDER BY v.planned_start, v.id
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
