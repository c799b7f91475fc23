"""Visits SQL: visits, their carers, tasks and check-in events, and the verification log.

What the verification job, reports and detector (h14b's side) may rely on, from migration 0013:

- `visits`: id, organisation_id, home_id, plan_id, service_type, local_date (the home's own date),
  planned_start / planned_end (UTC instants), carers_required, required_skills, status (planned,
  in_progress, completed, missed, cancelled; the rules job sets missed), checked_in_at /
  checked_out_at (event times of the accepted check-in and check-out), check_in_method /
  check_out_method (tag, phone, manual). A visit's planned minutes are planned_end - planned_start.
- `visit_assignments` (visit_id, carer_id): who is assigned now; `visit_assignment_changes` the history.
- `visit_events`: every check-in and check-out, accepted or not: visit_id (NULL when it matched no
  visit), home_id, carer_id (NULL for a tag of nobody), kind, method, event_time, arrival_time,
  latitude / longitude / accuracy_m / distance_m (phone only), flags (wrong_home, outside_geofence,
  manual, late_arrival, unknown_tag, no_visit, not_assigned, no_fix, poor_accuracy, superseded),
  accepted, reason, tag_id / device_id / reading_seq (tag only).
- `visit_tasks` (visit_id, position, task, status pending|done|not_done, note, recorded_at).
- `visit_verifications` (visit_id, verdict, reasons jsonb list of strings, evidence jsonb object,
  computed_at): written by the verification job with `upsert_verification`; read by the log routes.
- `homes.latitude`, `homes.longitude`, `homes.geofence_m` (NULL: the settings' default radius).
Functions here take the connection and keyword-only arguments, and return records.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

import asyncpg

from accounts.tenancy import Scope

# The columns of a visit as every listing returns them: the row, its planned minutes, its carers (as
# id/name objects), its tasks and the flags of its events, so one query serves the board and the API.
VISIT_COLUMNS = """
    v.id, v.home_id, v.organisation_id, v.plan_id, v.plan_visit_id, v.service_type, v.local_date,
    v.planned_start, v.planned_end, v.carers_required, v.required_skills, v.status, v.status_reason,
    v.checked_in_at, v.checked_out_at, v.check_in_method, v.check_out_method,
    (extract(epoch FROM v.planned_end - v.planned_start) / 60)::int AS planned_minutes,
    COALESCE((SELECT jsonb_agg(jsonb_build_object('id', u.id, 'name', u.name) ORDER BY u.name)
              FROM visit_assignments a JOIN users u ON u.id = a.carer_id WHERE a.visit_id = v.id),
             '[]') AS carers,
    COALESCE((SELECT jsonb_agg(jsonb_build_object('task', t.task, 'status', t.status, 'note', t.note,
                                                  'recorded_at', t.recorded_at) ORDER BY t.position)
              FROM visit_tasks t WHERE t.visit_id = v.id), '[]') AS tasks,
    COALESCE((SELECT array_agg(DISTINCT f) FROM visit_events e, unnest(e.flags) f
              WHERE e.visit_id = v.id), '{}') AS flags
"""

_ASSIGNED = "EXISTS (SELECT 1 FROM visit_assignments a WHERE a.visit_id = v.id AND a.carer_id = ${})"


async def get_visit(
    conn: asyncpg.Connection, *, visit_id: UUID, for_update: bool = False
) -> asyncpg.Record | None:
    """One visit's row (no joins), or None; locked for the transaction when for_update."""
    lock = " FOR UPDATE" if for_update else ""
    return await conn.fetchrow(f"SELECT * FROM visits WHERE id = $1{lock}", visit_id)


async def scoped_visit(conn: asyncpg.Connection, *, visit_id: UUID, scope: Scope) -> asyncpg.Record | None:
    """One visit with its carers, tasks and flags, if the scope sees its home; else None."""
    where, args = scope.where(org_column="v.organisation_id", home_column="v.home_id", param=2)
    return await conn.fetchrow(
        f"SELECT {VISIT_COLUMNS} FROM visits v WHERE v.id = $1 AND {where}", visit_id, *args
    )


async def visits_between(
    conn: asyncpg.Connection,
    *,
    scope: Scope,
    since: datetime,
    until: datetime,
    home_id: UUID | None = None,
    carer_id: UUID | None = None,
) -> list[asyncpg.Record]:
    """Visits the scope sees planned to start in [since, until), by planned start (home, carer: only)."""
    where, args = scope.where(org_column="v.organisation_id", home_column="v.home_id", param=3)
    conditions = [where]
    if home_id is not None:
        args.append(home_id)
        conditions.append(f"v.home_id = ${len(args) + 2}")
    if carer_id is not None:
        args.append(carer_id)
        conditions.append(_ASSIGNED.format(len(args) + 2))
    rows: list[asyncpg.Record] = await conn.fetch(
        f"""
        SELECT {VISIT_COLUMNS} FROM visits v
        WHERE v.planned_start >= $1 AND v.planned_start < $2 AND {" AND ".join(conditions)}
        ORDER BY v.planned_start, v.id
        """,
        since,
        until,
        *args,
    )
    return rows


async def assigned_carers(conn: asyncpg.Connection, *, visit_id: UUID) -> list[UUID]:
    """The carers assigned to a visit now."""
    rows = await conn.fetch("SELECT carer_id FROM visit_assignments WHERE visit_id = $1", visit_id)
    return [r["carer_id"] for r in rows]


async def assign(
    conn: asyncpg.Connection,
    *,
    visit_id: UUID,
    carer_id: UUID,
    by: UUID | None,
    actor: tuple[str, str],
    reason: str,
) -> bool:
    """Assign a carer to a visit and record it; False if they already were."""
    done = await conn.fetchval(
        "INSERT INTO visit_assignments (visit_id, carer_id, assigned_by) VALUES ($1, $2, $3) "
        "ON CONFLICT DO NOTHING RETURNING true",
        visit_id,
        carer_id,
        by,
    )
    if done:
        await _assignment_change(conn, visit_id, "assigned", carer_id, by, actor, reason)
    return bool(done)


async def unassign(
    conn: asyncpg.Connection,
    *,
    visit_id: UUID,
    carer_id: UUID,
    by: UUID | None,
    actor: tuple[str, str],
    reason: str,
) -> bool:
    """Take a carer off a visit and record it; False if they were not on it."""
    done = await conn.fetchval(
        "DELETE FROM visit_assignments WHERE visit_id = $1 AND carer_id = $2 RETURNING true",
        visit_id,
        carer_id,
    )
    if done:
        await _assignment_change(conn, visit_id, "unassigned", carer_id, by, actor, reason)
    return bool(done)


async def _assignment_change(
    conn: asyncpg.Connection,
    visit_id: UUID,
    action: str,
    carer_id: UUID,
    by: UUID | None,
    actor: tuple[str, str],
    reason: str,
) -> None:
    await conn.execute(
        """
        INSERT INTO visit_assignment_changes
            (visit_id, action, carer_id, actor_kind, actor_id, actor_name, reason)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        """,
        visit_id,
        action,
        carer_id,
        actor[0],
        by,
        actor[1],
        reason,
    )


async def assignment_history(conn: asyncpg.Connection, *, visit_id: UUID) -> list[asyncpg.Record]:
    """Every change to a visit's carers, oldest first."""
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT * FROM visit_assignment_changes WHERE visit_id = $1 ORDER BY id", visit_id
    )
    return rows


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


async def set_checked(
    conn: asyncpg.Connection, *, visit_id: UUID, kind: str, at: datetime, method: str
) -> asyncpg.Record:
    """Make an event the visit's check-in (in progress) or check-out (completed); returns the row."""
    if kind == "check_in":
        sql = """UPDATE visits SET checked_in_at = $2, check_in_method = $3, status = 'in_progress',
                 status_reason = '', updated_at = now() WHERE id = $1 RETURNING *"""
    else:
        sql = """UPDATE visits SET checked_out_at = $2, check_out_method = $3, status = 'completed',
                 updated_at = now() WHERE id = $1 RETURNING *"""
    row: asyncpg.Record = await conn.fetchrow(sql, visit_id, at, method)
    return row


async def set_status(conn: asyncpg.Connection, *, visit_id: UUID, status: str, reason: str) -> None:
    """Change a visit's status (missed, cancelled) with the reason."""
    await conn.execute(
        "UPDATE visits SET status = $2, status_reason = $3, updated_at = now() WHERE id = $1",
        visit_id,
        status,
        reason,
    )


async def set_task(
    conn: asyncpg.Connection, *, visit_id: UUID, task: str, status: str, note: str, by: UUID | None
) -> bool:
    """Mark a visit's task done or not done; False if the visit has no such task."""
    done = await conn.fetchval(
        """
        UPDATE visit_tasks SET status = $3, note = $4, recorded_at = now(), recorded_by = $5
        WHERE visit_id = $1 AND task = $2 RETURNING true
        """,
        visit_id,
        task,
        status,
        note,
        by,
    )
    return bool(done)


async def upsert_verification(
    conn: asyncpg.Connection,
    *,
    visit_id: UUID,
    verdict: str,
    reasons: list[str],
    evidence: dict[str, Any],
    computed_at: datetime,
) -> None:
    """Store (or replace) a visit's verdict with its reasons and evidence."""
    await conn.execute(
        """
        INSERT INTO visit_verifications (visit_id, verdict, reasons, evidence, computed_at)
        VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (visit_id) DO UPDATE SET verdict = EXCLUDED.verdict, reasons = EXCLUDED.reasons,
            evidence = EXCLUDED.evidence, computed_at = EXCLUDED.computed_at
        """,
        visit_id,
        verdict,
        reasons,
        evidence,
        computed_at,
    )


async def select_log(
    conn: asyncpg.Connection,
    *,
    scope: Scope,
    organisation_id: UUID | None = None,
    since: date | None = None,
    until: date | None = None,
    home_id: UUID | None = None,
    carer_id: UUID | None = None,
    verdicts: list[str] | None = None,
    before: tuple[datetime, UUID] | None = None,
    limit: int = 100,
) -> list[asyncpg.Record]:
    """The verification log the scope sees: visits (not cancelled) with their verdict, newest first.

    since / until are the homes' local dates (inclusive / exclusive); a verdict filter leaves out visits
    not yet judged.
    """
    where, args = scope.where(org_column="v.organisation_id", home_column="v.home_id", param=1)
    conditions = [where, "v.status <> 'cancelled'"]
    for sql, value in (
        ("v.organisation_id = ${}", organisation_id),
        ("v.local_date >= ${}", since),
        ("v.local_date < ${}", until),
        ("v.home_id = ${}", home_id),
        (_ASSIGNED, carer_id),
        ("vv.verdict = ANY(${}::text[])", verdicts),
    ):
        if value:
            args.append(value)
            conditions.append(sql.format(len(args)))
    if before is not None:
        args.extend(before)
        conditions.append(f"(v.planned_start, v.id) < (${len(args) - 1}, ${len(args)})")
    args.append(limit)
    rows: list[asyncpg.Record] = await conn.fetch(
        f"""
        SELECT {VISIT_COLUMNS}, h.name AS home_name, h.latitude, h.longitude,
               vv.verdict, COALESCE(vv.reasons, '[]') AS reasons, COALESCE(vv.evidence, '{{}}') AS evidence,
               vv.computed_at
        FROM visits v JOIN homes h ON h.id = v.home_id
        LEFT JOIN visit_verifications vv ON vv.visit_id = v.id
        WHERE {" AND ".join(conditions)}
        ORDER BY v.planned_start DESC, v.id DESC LIMIT ${len(args)}
        """,
        *args,
    )
    return rows


async def load_cursor(conn: asyncpg.Connection, *, name: str) -> tuple[int, list[int]]:
    """A visits job's place in the ingest batch log: (low, seen); (0, []) the first time."""
    row = await conn.fetchrow("SELECT batch_low, batch_seen FROM visit_cursors WHERE name = $1", name)
    return (0, []) if row is None else (int(row["batch_low"]), list(row["batch_seen"]))


async def save_cursor(conn: asyncpg.Connection, *, name: str, low: int, seen: list[int]) -> None:
    """Persist a visits job's place in the ingest batch log."""
    await conn.execute(
        """
        INSERT INTO visit_cursors (name, batch_low, batch_seen) VALUES ($1, $2, $3)
        ON CONFLICT (name) DO UPDATE SET batch_low = EXCLUDED.batch_low, batch_seen = EXCLUDED.batch_seen,
            updated_at = now()
        """,
        name,
        low,
        seen,
    )


async def insert_visit(
    conn: asyncpg.Connection,
    *,
    organisation_id: UUID,
    home_id: UUID,
    local_date: date,
    planned_start: datetime,
    planned_end: datetime,
    tasks: list[str],
    plan_id: UUID | None = None,
    plan_visit_id: UUID | None = None,
    occurrence_date: date | None = None,
    change_id: UUID | None = None,
    service_type: str = "personal_care",
    carers_required: int = 1,
    required_skills: list[str] | None = None,
) -> UUID | None:
    """Store a visit with its tasks; None if its occurrence (or change) is materialised already."""
    visit_id: UUID | None = await conn.fetchval(
        """
        INSERT INTO visits (organisation_id, home_id, plan_id, plan_visit_id, occurrence_date, change_id,
                            service_type, local_date, planned_start, planned_end, carers_required,
                            required_skills)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
        ON CONFLICT DO NOTHING RETURNING id
        """,
        organisation_id,
        home_id,
        plan_id,
        plan_visit_id,
        occurrence_date,
        change_id,
        service_type,
        local_date,
        planned_start,
        planned_end,
        carers_required,
        required_skills or [],
    )
    if visit_id is not None and tasks:
        await conn.executemany(
            "INSERT INTO visit_tasks (visit_id, position, task) VALUES ($1, $2, $3)",
            [(visit_id, i, task) for i, task in enumerate(tasks)],
        )
    return visit_id


async def board(
    conn: asyncpg.Connection, *, organisation_id: UUID, anchor: datetime, day: date | None
) -> list[asyncpg.Record]:
    """The organisation's visits of one local day (each home's own today at `anchor` when day is None)."""
    rows: list[asyncpg.Record] = await conn.fetch(
        f"""
        SELECT {VISIT_COLUMNS}, COALESCE(p.late_after_minutes, 15) AS late_after_minutes
        FROM visits v JOIN homes h ON h.id = v.home_id LEFT JOIN care_plans p ON p.id = v.plan_id
        WHERE v.organisation_id = $1
          AND v.planned_start >= $2::timestamptz - interval '40 hours'
          AND v.planned_start < $2::timestamptz + interval '40 hours'
          AND v.local_date = COALESCE($3::date, ($2 AT TIME ZONE h.timezone)::date)
        ORDER BY v.planned_start, v.id
        """,
        organisation_id,
        anchor,
        day,
    )
    return rows
