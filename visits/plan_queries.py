"""Care plan SQL: plans, their recurring visits and one-off changes, and the visits materialised from them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

import asyncpg

from accounts.tenancy import Scope

_RULE_COLUMNS = (
    "late_after_minutes",
    "missed_after_minutes",
    "short_below_percent",
    "no_checkout_after_minutes",
    "alerts_off",
)


async def insert_plan(
    conn: asyncpg.Connection,
    *,
    home_id: UUID,
    organisation_id: UUID,
    name: str,
    service_type: str,
    starts_on: date,
    ends_on: date | None,
    rules: dict[str, Any],
    created_by: UUID | None,
) -> UUID:
    """Store a plan; returns its id."""
    plan_id: UUID = await conn.fetchval(
        """
        INSERT INTO care_plans (home_id, organisation_id, name, service_type, starts_on, ends_on,
                                late_after_minutes, missed_after_minutes, short_below_percent,
                                no_checkout_after_minutes, alerts_off, created_by)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id
        """,
        home_id,
        organisation_id,
        name,
        service_type,
        starts_on,
        ends_on,
        *(rules[c] for c in _RULE_COLUMNS),
        created_by,
    )
    return plan_id


async def insert_plan_visit(conn: asyncpg.Connection, *, plan_id: UUID, **columns: Any) -> UUID:
    """Store a plan's recurring visit (columns of care_plan_visits); returns its id."""
    names = list(columns)
    values = ", ".join(f"${i}" for i in range(2, len(names) + 2))
    visit_id: UUID = await conn.fetchval(
        f"INSERT INTO care_plan_visits (plan_id, {', '.join(names)}) VALUES ($1, {values}) RETURNING id",
        plan_id,
        *columns.values(),
    )
    return visit_id


async def insert_change(conn: asyncpg.Connection, *, plan_id: UUID, **columns: Any) -> UUID:
    """Store a one-off change to a plan (columns of care_plan_changes); returns its id."""
    names = list(columns)
    values = ", ".join(f"${i}" for i in range(2, len(names) + 2))
    change_id: UUID = await conn.fetchval(
        f"INSERT INTO care_plan_changes (plan_id, {', '.join(names)}) VALUES ($1, {values}) RETURNING id",
        plan_id,
        *columns.values(),
    )
    return change_id


async def scoped_plan(conn: asyncpg.Connection, *, plan_id: UUID, scope: Scope) -> asyncpg.Record | None:
    """A plan with its home's time zone, if the scope sees its home; else None."""
    where, args = scope.where(org_column="p.organisation_id", home_column="p.home_id", param=2)
    return await conn.fetchrow(
        f"""
        SELECT p.*, h.timezone FROM care_plans p JOIN homes h ON h.id = p.home_id
        WHERE p.id = $1 AND {where}
        """,
        plan_id,
        *args,
    )


async def get_plan(
    conn: asyncpg.Connection, *, plan_id: UUID, for_update: bool = False
) -> asyncpg.Record | None:
    """A plan with its home's time zone, or None; locked (the plan row) when for_update."""
    lock = " FOR UPDATE OF p" if for_update else ""
    return await conn.fetchrow(
        f"SELECT p.*, h.timezone FROM care_plans p JOIN homes h ON h.id = p.home_id WHERE p.id = $1{lock}",
        plan_id,
    )


async def home_plans(conn: asyncpg.Connection, *, home_id: UUID) -> list[asyncpg.Record]:
    """A home's plans, oldest first."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT p.*, h.timezone FROM care_plans p JOIN homes h ON h.id = p.home_id
        WHERE p.home_id = $1 ORDER BY p.created_at, p.id
        """,
        home_id,
    )
    return rows


async def plan_visits(conn: asyncpg.Connection, *, plan_id: UUID) -> list[asyncpg.Record]:
    """A plan's recurring visits, oldest first."""
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT * FROM care_plan_visits WHERE plan_id = $1 ORDER BY created_at, start_time, id", plan_id
    )
    return rows


async def plan_changes(conn: asyncpg.Connection, *, plan_id: UUID) -> list[asyncpg.Record]:
    """A plan's one-off changes, oldest first."""
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT * FROM care_plan_changes WHERE plan_id = $1 ORDER BY created_at, id", plan_id
    )
    return rows


async def end_plan(conn: asyncpg.Connection, *, plan_id: UUID) -> None:
    """Stop a plan (its visits to come are cancelled by the next materialisation)."""
    await conn.execute("UPDATE care_plans SET active = false, updated_at = now() WHERE id = $1", plan_id)


async def active_plan_ids(conn: asyncpg.Connection) -> list[UUID]:
    """Every plan to roll forward: active ones, and stopped ones that may still have visits to cancel."""
    rows = await conn.fetch(
        """
        SELECT p.id FROM care_plans p
        WHERE p.active OR EXISTS (SELECT 1 FROM visits v WHERE v.plan_id = p.id AND v.status = 'planned')
        ORDER BY p.id
        """
    )
    return [r["id"] for r in rows]


async def plan_visits_from(
    conn: asyncpg.Connection, *, plan_id: UUID, since: datetime
) -> list[asyncpg.Record]:
    """The plan's materialised visits planned to start at or after `since`."""
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT * FROM visits WHERE plan_id = $1 AND planned_start >= $2 FOR UPDATE", plan_id, since
    )
    return rows


async def reschedule(
    conn: asyncpg.Connection,
    *,
    visit_id: UUID,
    local_date: date,
    planned_start: datetime,
    planned_end: datetime,
    status: str,
    reason: str,
) -> None:
    """Bring a visit not yet under way in line with its plan (moved, cancelled, or back)."""
    await conn.execute(
        """
        UPDATE visits SET local_date = $2, planned_start = $3, planned_end = $4, status = $5,
                          status_reason = $6, updated_at = now()
        WHERE id = $1 AND status IN ('planned', 'cancelled') AND checked_in_at IS NULL
        """,
        visit_id,
        local_date,
        planned_start,
        planned_end,
        status,
        reason,
    )


async def replace_tasks(conn: asyncpg.Connection, *, visit_id: UUID, tasks: list[str]) -> None:
    """Give a visit not yet under way another list of tasks."""
    await conn.execute("DELETE FROM visit_tasks WHERE visit_id = $1", visit_id)
    await conn.executemany(
        "INSERT INTO visit_tasks (visit_id, position, task) VALUES ($1, $2, $3)",
        [(visit_id, i, task) for i, task in enumerate(tasks)],
    )


async def visit_tasks(conn: asyncpg.Connection, *, visit_id: UUID) -> list[str]:
    """A visit's tasks, in order."""
    rows = await conn.fetch("SELECT task FROM visit_tasks WHERE visit_id = $1 ORDER BY position", visit_id)
    return [r["task"] for r in rows]


async def carer_skills(conn: asyncpg.Connection, *, user_id: UUID) -> set[str]:
    """A carer's skills."""
    rows = await conn.fetch("SELECT skill FROM carer_skills WHERE user_id = $1", user_id)
    return {r["skill"] for r in rows}


async def set_carer_skills(conn: asyncpg.Connection, *, user_id: UUID, skills: list[str]) -> None:
    """Replace a carer's skills."""
    await conn.execute("DELETE FROM carer_skills WHERE user_id = $1", user_id)
    await conn.executemany(
        "INSERT INTO carer_skills (user_id, skill) VALUES ($1, $2)", [(user_id, s) for s in set(skills)]
    )


async def assigned_to_home(conn: asyncpg.Connection, *, user_id: UUID, home_id: UUID) -> bool:
    """Whether the carer is among the home's carers (carer_assignments)."""
    found = await conn.fetchval(
        "SELECT true FROM carer_assignments WHERE user_id = $1 AND home_id = $2", user_id, home_id
    )
    return bool(found)


# A visit with its plan's alert rules (the defaults of migration 0013 for a visit with no plan).
_WITH_RULES = """
    SELECT v.*, h.name AS home_name, h.timezone,
           COALESCE(p.late_after_minutes, 15) AS late_after_minutes, p.missed_after_minutes,
           COALESCE(p.short_below_percent, 75) AS short_below_percent,
           COALESCE(p.no_checkout_after_minutes, 60) AS no_checkout_after_minutes,
           COALESCE(p.alerts_off, '{}') AS alerts_off
    FROM visits v JOIN homes h ON h.id = v.home_id LEFT JOIN care_plans p ON p.id = v.plan_id
"""


async def visit_with_rules(conn: asyncpg.Connection, *, visit_id: UUID) -> asyncpg.Record | None:
    """A visit, locked, with its plan's alert rules; None if it does not exist."""
    return await conn.fetchrow(f"{_WITH_RULES} WHERE v.id = $1 FOR UPDATE OF v", visit_id)


async def rule_candidates(conn: asyncpg.Connection, *, now: datetime, lookback_hours: int = 48) -> list[UUID]:
    """Visits the rules must look at: started (by plan) in the last hours and not yet finished."""
    rows = await conn.fetch(
        """
        SELECT id FROM visits
        WHERE status IN ('planned', 'in_progress') AND planned_start <= $1
          AND planned_start > $1 - make_interval(hours => $2)
        ORDER BY planned_start, id
        """,
        now,
        lookback_hours,
    )
    return [r["id"] for r in rows]
