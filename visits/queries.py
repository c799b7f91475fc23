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
- `care_plans` rule columns (late_after_minutes, missed_after_minutes, short_below_percent,
  no_checkout_after_minutes, alerts_off) and `alert_kinds` 'visit_unverified' for the sensors' verdict:
  raise it with `visits.alerting.raise_once(kind="visit_unverified", ...)` unless the plan switched it off.
Functions here (the visits themselves) take the connection and keyword-only arguments, and return
records; assignments, events, the log and the tags job's cursor are in their own modules (re-exported
here for the callers written before the split).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, get_args
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg
import orjson

from accounts.tenancy import Scope
from visits.assignment_queries import assign as assign
from visits.assignment_queries import assigned_carers as assigned_carers
from visits.assignment_queries import assignment_history as assignment_history
from visits.assignment_queries import unassign as unassign
from visits.assignment_queries import unstaffed as unstaffed
from visits.event_queries import insert_event as insert_event
from visits.event_queries import visit_events as visit_events
from visits.log_queries import select_log as select_log
from visits.log_queries import upsert_verification as upsert_verification
from visits.schemas import LiveStatus
from visits.tag_queries import load_cursor as load_cursor
from visits.tag_queries import save_cursor as save_cursor
from visits.visit_columns import ASSIGNED, VISIT_COLUMNS, VISIT_COLUMNS_TEXT


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
        conditions.append(ASSIGNED.format(len(args) + 2))
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


async def board_dates(
    conn: asyncpg.Connection, *, organisation_id: UUID, anchor: datetime, day: date | None
) -> list[date]:
    """The local dates the board shows: the day given, or each of the organisation's homes' today."""
    if day is not None:
        return [day]
    zones = await conn.fetch(
        "SELECT DISTINCT timezone FROM homes WHERE organisation_id = $1", organisation_id
    )
    return sorted({anchor.astimezone(ZoneInfo(z["timezone"])).date() for z in zones})


def _board_day(dates: list[date], anchor: datetime) -> tuple[str, list[Any]]:
    # One date (a day asked for, or homes all on one today): a range of visits_organisation_day_idx in
    # board order. Homes on different todays (zones far apart): each visit on its own home's today.
    if len(dates) <= 1:
        return "v.local_date = $2", [dates[0] if dates else date.min]
    zone = "(SELECT h.timezone FROM homes h WHERE h.id = v.home_id)"
    zone = f"v.local_date = ($3::timestamptz AT TIME ZONE {zone})::date"
    return f"v.local_date = ANY($2::date[]) AND {zone}", [dates, anchor]


async def board(
    conn: asyncpg.Connection,
    *,
    organisation_id: UUID,
    anchor: datetime,
    day: date | None,
    after: tuple[datetime, UUID] | None = None,
    limit: int | None = None,
) -> list[asyncpg.Record]:
    """The organisation's visits of one local day (each home's own today at `anchor` when day is None)
    by planned start; a page of `limit` after the (planned start, id) `after`, if given (the API's board
    is board_page)."""
    dates = await board_dates(conn, organisation_id=organisation_id, anchor=anchor, day=day)
    on_day, args = _board_day(dates, anchor)
    args = [organisation_id, *args]
    keyset = page = ""
    if after is not None:
        args.extend(after)
        keyset = f"AND (v.planned_start, v.id) > (${len(args) - 1}, ${len(args)})"
    if limit is not None:
        args.append(limit)
        page = f"LIMIT ${len(args)}"
    rows: list[asyncpg.Record] = await conn.fetch(
        f"""
        SELECT {VISIT_COLUMNS},
               COALESCE((SELECT p.late_after_minutes FROM care_plans p WHERE p.id = v.plan_id), 15)
                   AS late_after_minutes
        FROM visits v WHERE v.organisation_id = $1 AND {on_day} {keyset}
        ORDER BY v.planned_start, v.id {page}
        """,
        *args,
    )
    return rows


# A visit's live status at $NOW as views.live_status computes it, as its index in LiveStatus: the counts
# compare integers, eight times a row, where status names cost a text comparison each (about a tenth of the
# counts' time). The plan's lateness is looked up only for the visits past their start and not checked in.
_CODE = {status: code for code, status in enumerate(get_args(LiveStatus))}
_LIVE_CODE = """
    CASE v.status
      WHEN 'completed' THEN {completed}
      WHEN 'planned' THEN
        CASE WHEN $NOW < v.planned_start THEN {upcoming}
             WHEN $NOW < v.planned_start + make_interval(mins => COALESCE(
                    (SELECT p.late_after_minutes FROM care_plans p WHERE p.id = v.plan_id), 15))
               THEN {due}
             ELSE {late} END
      WHEN 'in_progress' THEN CASE WHEN $NOW > v.planned_end THEN {overrunning} ELSE {in_progress} END
      WHEN 'missed' THEN {missed}
      ELSE {cancelled}
    END
""".format(**_CODE)

# The local date at $2 in each distinct time zone of the organisation's homes, zones first: converting $2
# into every one of 500 homes' zones was about a tenth of a cursor page's time in the database (issue 14's
# profile). Not a skip scan by recursion: the planner
# guesses a recursive CTE at 100 rows, which prices the counts so high that it compiles them (JIT, 20 ms).
_TODAYS = """
    dates AS (
        SELECT DISTINCT ($2::timestamptz AT TIME ZONE z.tz)::date AS d
        FROM (SELECT DISTINCT h.timezone AS tz FROM homes h WHERE h.organisation_id = $1) z
    )
"""


async def board_page(
    conn: asyncpg.Connection,
    *,
    organisation_id: UUID,
    anchor: datetime,
    day: date | None,
    now: datetime,
    after: tuple[datetime, UUID] | None,
    limit: int,
    with_counts: bool,
) -> tuple[list[asyncpg.Record], dict[str, int] | None]:
    """A page of the board (as `board`, carers and tasks as JSON text) and, when with_counts, the day's
    counts by live status, in one statement: the board's dates, its page and its counts."""
    if day is not None:
        dates, args = "dates AS (SELECT $2::date AS d)", [organisation_id, day]
        one_date = own_today = "true"
    else:
        dates, args = _TODAYS, [organisation_id, anchor]
        # Homes on different todays (zones far apart): each visit on its own home's today (its home
        # looked up). With one date, the usual case, the index range alone is the day.
        one_date = "(SELECT count(*) FROM dates) <= 1"
        own_today = f"""({one_date} OR v.local_date = ($2::timestamptz AT TIME ZONE
                         (SELECT h.timezone FROM homes h WHERE h.id = v.home_id))::date)"""
    keyset = ""
    if after is not None:
        args.extend(after)
        keyset = f"AND (v.planned_start, v.id) > (${len(args) - 1}, ${len(args)})"
    args.extend((limit, now))
    page, at = f"${len(args) - 1}", f"${len(args)}::timestamptz"
    counts = "NULL::text"
    if with_counts:
        live = _LIVE_CODE.replace("$NOW", at)
        # Uncorrelated, so computed once for the statement (an InitPlan), not once per row; a count per
        # status in one pass (FILTER), not a GROUP BY that sorts the day's visits. One branch runs (a
        # one-time filter): with one date, the counts come from the index alone (no home looked up).
        tally = ", ".join(f"'{s}', count(*) FILTER (WHERE d.s = {k})" for s, k in _CODE.items())
        counts = f"""(SELECT json_build_object({tally})::text FROM (
                        SELECT {live} AS s FROM dates, visits v
                        WHERE {one_date} AND v.organisation_id = $1 AND v.local_date = dates.d
                        UNION ALL
                        SELECT {live} FROM dates, visits v
                        WHERE NOT {one_date} AND v.organisation_id = $1 AND v.local_date = dates.d
                          AND {own_today}
                    ) d)"""
    # Each date's page straight from visits_organisation_day_idx in board order, then merged; carers,
    # tasks and flags are built only for the rows of the page, the plan's lateness only for the rows
    # whose live status needs it (NULL for the others).
    rows: list[asyncpg.Record] = await conn.fetch(
        f"""
        WITH {dates}
        SELECT {VISIT_COLUMNS_TEXT},
               CASE WHEN v.status = 'planned' AND v.planned_start <= {at} THEN
                   COALESCE((SELECT p.late_after_minutes FROM care_plans p WHERE p.id = v.plan_id), 15)
               END AS late_after_minutes,
               {counts} AS counts
        FROM (
            SELECT w.* FROM dates, LATERAL (
                SELECT v.* FROM visits v
                WHERE v.organisation_id = $1 AND v.local_date = dates.d AND {own_today} {keyset}
                ORDER BY v.planned_start, v.id LIMIT {page}
            ) w
            ORDER BY w.planned_start, w.id LIMIT {page}
        ) v
        ORDER BY v.planned_start, v.id
        """,
        *args,
    )
    if not with_counts:
        return rows, None
    # No row: the day has no visits at all (a first page is never empty otherwise). The statuses no
    # visit is in are left out.
    tallied: dict[str, int] = orjson.loads(rows[0]["counts"]) if rows else {}
    return rows, {status: n for status, n in tallied.items() if n}
