"""SQL of rostering: carer profiles and rosters with their assignments, rounds and uncovered visits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any
from uuid import UUID

import asyncpg

_PROFILE_COLUMNS = (
    "user_id, organisation_id, home_latitude, home_longitude, travel_mode, max_week_minutes, "
    "working_hours, timezone, updated_at"
)
_ROSTER_COLUMNS = (
    "id, organisation_id, period_start, period_end, status, progress, message, weights, figures, solver, "
    "based_on, created_by, created_at, finished_at, accepted_by, accepted_at"
)


async def upsert_profile(
    conn: asyncpg.Connection,
    *,
    user_id: UUID,
    organisation_id: UUID,
    home_latitude: float,
    home_longitude: float,
    travel_mode: str,
    max_week_minutes: int,
    working_hours: dict[str, Any],
    timezone: str,
) -> asyncpg.Record:
    """Create or replace a carer's profile."""
    row = await conn.fetchrow(
        f"""INSERT INTO carer_profiles (user_id, organisation_id, home_latitude, home_longitude, travel_mode,
                                        max_week_minutes, working_hours, timezone)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
            ON CONFLICT (user_id) DO UPDATE SET
                organisation_id = EXCLUDED.organisation_id, home_latitude = EXCLUDED.home_latitude,
                home_longitude = EXCLUDED.home_longitude, travel_mode = EXCLUDED.travel_mode,
                max_week_minutes = EXCLUDED.max_week_minutes, working_hours = EXCLUDED.working_hours,
                timezone = EXCLUDED.timezone, updated_at = now()
            RETURNING {_PROFILE_COLUMNS}""",
        user_id,
        organisation_id,
        home_latitude,
        home_longitude,
        travel_mode,
        max_week_minutes,
        working_hours,
        timezone,
    )
    assert row is not None
    return row


async def get_profile(conn: asyncpg.Connection, *, user_id: UUID) -> asyncpg.Record | None:
    """A carer's profile, if they have one."""
    return await conn.fetchrow(f"SELECT {_PROFILE_COLUMNS} FROM carer_profiles WHERE user_id = $1", user_id)


async def organisation_carers(conn: asyncpg.Connection, *, organisation_id: UUID) -> list[asyncpg.Record]:
    """The organisation's active carers who have a profile, with their names."""
    return list(
        await conn.fetch(
            f"""SELECT {", ".join("p." + c.strip() for c in _PROFILE_COLUMNS.split(","))}, u.name
                FROM carer_profiles p JOIN users u ON u.id = p.user_id
                WHERE p.organisation_id = $1 AND u.role = 'carer' AND u.active
                ORDER BY u.name, u.id""",
            organisation_id,
        )
    )


async def insert_roster(
    conn: asyncpg.Connection,
    *,
    organisation_id: UUID,
    start: date,
    end: date,
    weights: dict[str, Any],
    created_by: UUID | None,
    based_on: UUID | None = None,
) -> UUID:
    """A new roster, running."""
    roster_id: UUID = await conn.fetchval(
        """INSERT INTO rosters (organisation_id, period_start, period_end, weights, created_by, based_on)
           VALUES ($1, $2, $3, $4, $5, $6) RETURNING id""",
        organisation_id,
        start,
        end,
        weights,
        created_by,
        based_on,
    )
    return roster_id


async def set_progress(conn: asyncpg.Connection, *, roster_id: UUID, progress: float, message: str) -> None:
    """How far a running roster has got."""
    await conn.execute(
        "UPDATE rosters SET progress = $2, message = $3 WHERE id = $1 AND status = 'running'",
        roster_id,
        max(0.0, min(1.0, progress)),
        message[:500],
    )


async def fail_roster(conn: asyncpg.Connection, *, roster_id: UUID, message: str) -> None:
    """A roster whose job failed, with the reason."""
    await conn.execute(
        "UPDATE rosters SET status = 'failed', message = $2, finished_at = now() WHERE id = $1",
        roster_id,
        message[:500],
    )


async def finish_roster(
    conn: asyncpg.Connection,
    *,
    roster_id: UUID,
    figures: dict[str, Any],
    assignments: Sequence[tuple[str, list[UUID], Any, int, list[str]]],
    rounds: Sequence[tuple[UUID, date, Any, Any, int, Any]],
    uncovered: Sequence[tuple[str, str]],
) -> None:
    """A finished roster: its figures and rows, and status ready."""
    await conn.executemany(
        """INSERT INTO roster_assignments (roster_id, visit_id, carer_ids, starts_at, late_s, reasons)
           VALUES ($1, $2, $3, $4, $5, $6)""",
        [(roster_id, *a) for a in assignments],
    )
    await conn.executemany(
        """INSERT INTO roster_rounds (roster_id, carer_id, day, depart_at, back_at, travel_s, stops)
           VALUES ($1, $2, $3, $4, $5, $6, $7)""",
        [(roster_id, *r) for r in rounds],
    )
    await conn.executemany(
        "INSERT INTO roster_uncovered (roster_id, visit_id, reason) VALUES ($1, $2, $3)",
        [(roster_id, *u) for u in uncovered],
    )
    await conn.execute(
        """UPDATE rosters SET status = 'ready', progress = 1, message = 'done', figures = $2,
                              finished_at = now()
           WHERE id = $1""",
        roster_id,
        figures,
    )


async def get_roster(
    conn: asyncpg.Connection, *, roster_id: UUID, for_update: bool = False
) -> asyncpg.Record | None:
    """A roster's row."""
    lock = " FOR UPDATE" if for_update else ""
    return await conn.fetchrow(f"SELECT {_ROSTER_COLUMNS} FROM rosters WHERE id = $1{lock}", roster_id)


async def list_rosters(
    conn: asyncpg.Connection, *, organisation_id: UUID, limit: int
) -> list[asyncpg.Record]:
    """An organisation's rosters, newest first."""
    return list(
        await conn.fetch(
            f"""SELECT {_ROSTER_COLUMNS} FROM rosters WHERE organisation_id = $1
                ORDER BY created_at DESC, id DESC LIMIT $2""",
            organisation_id,
            limit,
        )
    )


async def roster_assignments(conn: asyncpg.Connection, *, roster_id: UUID) -> list[asyncpg.Record]:
    """A roster's assignments in time order."""
    return list(
        await conn.fetch(
            """SELECT visit_id, carer_ids, starts_at, late_s, reasons FROM roster_assignments
               WHERE roster_id = $1 ORDER BY starts_at, visit_id""",
            roster_id,
        )
    )


async def roster_rounds(conn: asyncpg.Connection, *, roster_id: UUID) -> list[asyncpg.Record]:
    """A roster's rounds."""
    return list(
        await conn.fetch(
            """SELECT carer_id, day, depart_at, back_at, travel_s, stops FROM roster_rounds
               WHERE roster_id = $1 ORDER BY day, depart_at, carer_id""",
            roster_id,
        )
    )


async def roster_uncovered(conn: asyncpg.Connection, *, roster_id: UUID) -> list[asyncpg.Record]:
    """A roster's uncovered visits."""
    return list(
        await conn.fetch(
            "SELECT visit_id, reason FROM roster_uncovered WHERE roster_id = $1 ORDER BY visit_id", roster_id
        )
    )


async def mark_accepted(conn: asyncpg.Connection, *, roster_id: UUID, by: UUID | None) -> None:
    """A roster whose assignments were made."""
    await conn.execute(
        "UPDATE rosters SET status = 'accepted', accepted_by = $2, accepted_at = now() WHERE id = $1",
        roster_id,
        by,
    )
