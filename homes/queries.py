"""Homes SQL: organisations, homes and residents, circles of care and carer assignments (homes read
through a caller's Scope)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

from accounts.tenancy import Scope


async def insert_organisation(conn: asyncpg.Connection, *, name: str) -> UUID:
    """Create an organisation; returns its id."""
    return await conn.fetchval("INSERT INTO organisations (name) VALUES ($1) RETURNING id", name)  # type: ignore[no-any-return]


async def insert_home(
    conn: asyncpg.Connection,
    *,
    organisation_id: UUID,
    name: str,
    address: str = "",
    timezone: str = "Europe/London",
    latitude: float | None = None,
    longitude: float | None = None,
) -> UUID:
    """Create a home; returns its id."""
    return await conn.fetchval(  # type: ignore[no-any-return]
        """
        INSERT INTO homes (organisation_id, name, address, timezone, latitude, longitude)
        VALUES ($1, $2, $3, $4, $5, $6) RETURNING id
        """,
        organisation_id,
        name,
        address,
        timezone,
        latitude,
        longitude,
    )


async def insert_resident(conn: asyncpg.Connection, *, home_id: UUID, display_name: str) -> UUID:
    """Add a resident to a home; returns the resident's id."""
    return await conn.fetchval(  # type: ignore[no-any-return]
        "INSERT INTO residents (home_id, display_name) VALUES ($1, $2) RETURNING id", home_id, display_name
    )


async def get_home(conn: asyncpg.Connection, *, home_id: UUID) -> asyncpg.Record | None:
    """One home, or None."""
    return await conn.fetchrow("SELECT * FROM homes WHERE id = $1", home_id)


async def get_organisation(conn: asyncpg.Connection, *, organisation_id: UUID) -> asyncpg.Record | None:
    """One organisation, or None."""
    return await conn.fetchrow("SELECT * FROM organisations WHERE id = $1", organisation_id)


async def list_organisations(conn: asyncpg.Connection, *, only: UUID | None) -> list[asyncpg.Record]:
    """Organisations oldest first (only that one, or all)."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT * FROM organisations WHERE $1::uuid IS NULL OR id = $1
        ORDER BY created_at, id LIMIT 1000
        """,
        only,
    )
    return rows


async def scoped_home(conn: asyncpg.Connection, *, home_id: UUID, scope: Scope) -> asyncpg.Record | None:
    """A home if the scope sees it, else None."""
    where, args = scope.where(org_column="organisation_id", home_column="id", param=2)
    return await conn.fetchrow(f"SELECT * FROM homes WHERE id = $1 AND {where}", home_id, *args)


async def scoped_homes(
    conn: asyncpg.Connection,
    *,
    scope: Scope,
    organisation_id: UUID | None,
    after: tuple[datetime, UUID] | None,
    limit: int,
) -> list[asyncpg.Record]:
    """Homes the scope sees, oldest first, after a keyset position."""
    where, args = scope.where(org_column="organisation_id", home_column="id", param=5)
    rows: list[asyncpg.Record] = await conn.fetch(
        f"""
        SELECT * FROM homes
        WHERE ($1::uuid IS NULL OR organisation_id = $1)
          AND ($2::timestamptz IS NULL OR (created_at, id) > ($2, $3)) AND {where}
        ORDER BY created_at, id LIMIT $4
        """,
        organisation_id,
        after[0] if after else None,
        after[1] if after else None,
        limit,
        *args,
    )
    return rows


async def list_residents(conn: asyncpg.Connection, *, home_id: UUID) -> list[asyncpg.Record]:
    """A home's residents."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT id, home_id, display_name, created_at FROM residents
        WHERE home_id = $1 ORDER BY created_at, id
        """,
        home_id,
    )
    return rows


async def upsert_circle(
    conn: asyncpg.Connection, *, home_id: UUID, user_id: UUID, relationship: str, receives_alerts: bool
) -> None:
    """Put a family member in a home's circle of care (or change their place in it)."""
    await conn.execute(
        """
        INSERT INTO care_circles (home_id, user_id, relationship, receives_alerts) VALUES ($1, $2, $3, $4)
        ON CONFLICT (home_id, user_id) DO UPDATE
        SET relationship = EXCLUDED.relationship, receives_alerts = EXCLUDED.receives_alerts
        """,
        home_id,
        user_id,
        relationship,
        receives_alerts,
    )


async def list_circle(conn: asyncpg.Connection, *, home_id: UUID) -> list[asyncpg.Record]:
    """A home's circle of care with each member's name and email."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT c.home_id, c.user_id, u.name, u.email, c.relationship, c.receives_alerts, c.created_at
        FROM care_circles c JOIN users u ON u.id = c.user_id WHERE c.home_id = $1 ORDER BY c.created_at
        """,
        home_id,
    )
    return rows


async def delete_circle(conn: asyncpg.Connection, *, home_id: UUID, user_id: UUID) -> bool:
    """Take someone out of a home's circle; whether they were in it."""
    done = await conn.execute(
        "DELETE FROM care_circles WHERE home_id = $1 AND user_id = $2", home_id, user_id
    )
    return str(done) != "DELETE 0"


async def insert_assignment(conn: asyncpg.Connection, *, home_id: UUID, user_id: UUID) -> None:
    """Assign a carer to a home (assigning twice is one assignment)."""
    await conn.execute(
        "INSERT INTO carer_assignments (user_id, home_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        user_id,
        home_id,
    )


async def list_assignments(conn: asyncpg.Connection, *, home_id: UUID) -> list[asyncpg.Record]:
    """The carers assigned to a home."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT a.home_id, a.user_id, u.name, u.email, a.created_at
        FROM carer_assignments a JOIN users u ON u.id = a.user_id WHERE a.home_id = $1 ORDER BY a.created_at
        """,
        home_id,
    )
    return rows


async def delete_assignment(conn: asyncpg.Connection, *, home_id: UUID, user_id: UUID) -> bool:
    """Unassign a carer from a home; whether they were assigned."""
    done = await conn.execute(
        "DELETE FROM carer_assignments WHERE home_id = $1 AND user_id = $2", home_id, user_id
    )
    return str(done) != "DELETE 0"


async def alert_audience(conn: asyncpg.Connection, *, home_id: UUID) -> list[asyncpg.Record]:
    """Active people who may be told about a home's alerts: (home_id, user_id, role, name, email, timezone)
    (see alert_audiences)."""
    return await alert_audiences(conn, home_ids=[home_id])


async def alert_audiences(conn: asyncpg.Connection, *, home_ids: list[UUID]) -> list[asyncpg.Record]:
    """alert_audience of several homes at once, by home, each home's people oldest first.

    The circle of care members with receives_alerts, the carers assigned to the home and the coordinators of
    its organisation: the people who see the home, less family members who asked not to be alerted. Each
    kind of member is looked up by its own index (a join with OR over every user scanned them all, ~2 ms
    a home with a few thousand users), and an organisation's coordinators once for all its homes.
    """
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        WITH h AS (SELECT id, organisation_id, timezone FROM homes WHERE id = ANY($1::uuid[])),
        coordinators AS (
            SELECT u.id, u.organisation_id FROM users u
            WHERE u.role = 'coordinator' AND u.organisation_id IN (SELECT organisation_id FROM h)
        ),
        members AS (
            SELECT c.home_id, c.user_id, 'family' AS role FROM care_circles c
            WHERE c.home_id IN (SELECT id FROM h) AND c.receives_alerts
            UNION ALL
            SELECT a.home_id, a.user_id, 'carer' FROM carer_assignments a
            WHERE a.home_id IN (SELECT id FROM h)
            UNION ALL
            SELECT h.id, k.id, 'coordinator'
            FROM h JOIN coordinators k ON k.organisation_id = h.organisation_id
        )
        SELECT h.id AS home_id, u.id AS user_id, u.role, u.name, u.email, h.timezone
        FROM members m JOIN h ON h.id = m.home_id JOIN users u ON u.id = m.user_id
        -- Carers and coordinators count only in their own organisation's homes; family in their circle's.
        WHERE u.active AND u.role = m.role AND (u.role = 'family' OR u.organisation_id = h.organisation_id)
        ORDER BY h.id, u.created_at, u.id
        """,
        home_ids,
    )
    return rows
