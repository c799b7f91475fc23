"""Assignment SQL: who is on a visit now, and every change to that with who made it and why."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg


async def assigned_carers(conn: asyncpg.Connection, *, visit_id: UUID) -> list[UUID]:
    """The carers assigned to a visit now."""
    rows = await conn.fetch("SELECT carer_id FROM visit_assignments WHERE visit_id = $1", visit_id)
    return [r["carer_id"] for r in rows]


async def unstaffed(
    conn: asyncpg.Connection, *, home_id: UUID, since: datetime, until: datetime
) -> list[asyncpg.Record]:
    """The home's visits planned to start in [since, until] with nobody assigned: (id, planned_start)."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT v.id, v.planned_start FROM visits v
        WHERE v.home_id = $1 AND v.planned_start BETWEEN $2 AND $3
          AND NOT EXISTS (SELECT 1 FROM visit_assignments a WHERE a.visit_id = v.id)
        """,
        home_id,
        since,
        until,
    )
    return rows


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
