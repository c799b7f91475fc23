"""Detector SQL: the checkpoint (cursor, home states, models), health events in commit order, the
registry it watches, carer windows and the alerts people resolved."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg


async def load_cursor(conn: asyncpg.Connection, *, name: str) -> asyncpg.Record | None:
    """The saved positions of a detector in the two committed logs."""
    return await conn.fetchrow("SELECT * FROM detector_cursors WHERE name = $1", name)


async def save_cursor(
    conn: asyncpg.Connection,
    *,
    name: str,
    batch_low: int,
    batch_seen: list[int],
    health_low: int,
    health_seen: list[int],
) -> None:
    """Save the positions (in the caller's transaction, with the states and alerts)."""
    await conn.execute(
        """
        INSERT INTO detector_cursors (name, batch_low, batch_seen, health_low, health_seen)
        VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (name) DO UPDATE SET batch_low = $2, batch_seen = $3, health_low = $4,
            health_seen = $5, updated_at = now()
        """,
        name,
        batch_low,
        batch_seen,
        health_low,
        health_seen,
    )


async def load_homes(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    """Every home with its time zone and saved detector state (NULL where none yet)."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT h.id, h.timezone, d.live, d.baseline FROM homes h
        LEFT JOIN detector_homes d ON d.home_id = h.id
        """
    )
    return rows


async def load_devices(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    """Every device that is not decommissioned: id, home, type, room, role, event-only."""
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT id, home_id, type, room, role, event_only FROM devices WHERE status <> 'decommissioned'"
    )
    return rows


async def save_homes(conn: asyncpg.Connection, *, rows: list[tuple[Any, ...]]) -> None:
    """Upsert (home_id, mode, learned_days, live, baseline-or-NULL) rows; NULL keeps the saved baseline."""
    await conn.executemany(
        """
        INSERT INTO detector_homes (home_id, mode, learned_days, live, baseline)
        VALUES ($1, $2, $3, $4, coalesce($5, '{}'::jsonb))
        ON CONFLICT (home_id) DO UPDATE SET mode = $2, learned_days = $3, live = $4,
            baseline = coalesce($5, detector_homes.baseline), updated_at = now()
        """,
        rows,
    )


async def save_model(
    conn: asyncpg.Connection,
    *,
    home_id: UUID,
    version: int,
    n_days: int,
    features: list[str],
    threshold: float,
    model: bytes,
) -> None:
    """Store a newly trained day model."""
    await conn.execute(
        """
        INSERT INTO detector_models (home_id, version, n_days, features, threshold, model)
        VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (home_id, version) DO NOTHING
        """,
        home_id,
        version,
        n_days,
        features,
        threshold,
        model,
    )


async def latest_models(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    """The newest day model of every home."""
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT DISTINCT ON (home_id) home_id, version, model FROM detector_models "
        "ORDER BY home_id, version DESC"
    )
    return rows


async def horizon(conn: asyncpg.Connection) -> int:
    """The oldest transaction still running: everything below it has committed or never will."""
    return int(await conn.fetchval("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint"))


async def read_health_events(
    conn: asyncpg.Connection, *, low: int, seen: set[int], limit: int
) -> tuple[list[asyncpg.Record], int, bool]:
    """Health events of transactions not yet seen at or above `low`, in xid order, and the horizon.

    Returns (rows, horizon, complete): the oldest transaction still running, and whether every
    visible event was returned (only then may the caller move `low` up to the horizon).
    """
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        rows: list[asyncpg.Record] = await conn.fetch(
            """
            SELECT id, device_id, home_id, kind, at, detail, xid::text::bigint AS xid
            FROM device_health_events
            WHERE xid >= $1::text::xid8 AND NOT (xid::text::bigint = ANY($2::bigint[]))
            ORDER BY xid, id LIMIT $3
            """,
            str(low),
            sorted(seen),
            limit + 1,
        )
        horizon = int(await conn.fetchval("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint"))
    if len(rows) <= limit:
        return rows, horizon, True
    # Never hand on part of a transaction's events: stop before the last (possibly cut) transaction.
    last = rows[-1]["xid"]
    kept = [r for r in rows if r["xid"] != last]
    return (kept or rows[:limit]), horizon, False


async def carer_windows(conn: asyncpg.Connection, *, since: datetime) -> list[asyncpg.Record]:
    """Carer windows that end after `since`."""
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT home_id, starts_at, ends_at, source FROM carer_windows WHERE ends_at > $1 ORDER BY starts_at",
        since,
    )
    return rows


async def insert_carer_window(
    conn: asyncpg.Connection, *, home_id: UUID, starts_at: datetime, ends_at: datetime, source: str, note: str
) -> UUID:
    """Record a time a carer is with the resident; returns its id."""
    window_id: UUID = await conn.fetchval(
        "INSERT INTO carer_windows (home_id, starts_at, ends_at, source, note) VALUES ($1, $2, $3, $4, $5) "
        "RETURNING id",
        home_id,
        starts_at,
        ends_at,
        source,
        note,
    )
    return window_id


async def resolved_by_people(conn: asyncpg.Connection, *, since: datetime) -> list[asyncpg.Record]:
    """Detector alerts that a person (not the detector) resolved since `since`, with the resolution."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT id, home_id, kind, dedupe_key, resolution, resolved_at, triggered_at FROM alerts
        WHERE status = 'resolved' AND resolved_at >= $1 AND source = 'detector'
          AND resolution IN ('handled', 'false_alarm')
        ORDER BY resolved_at
        """,
        since,
    )
    return rows


async def home_picture(conn: asyncpg.Connection, *, home_id: UUID) -> asyncpg.Record | None:
    """One home's saved detector state (mode, learned days, live picture, baseline), or None."""
    return await conn.fetchrow(
        "SELECT mode, learned_days, live, baseline, updated_at FROM detector_homes WHERE home_id = $1",
        home_id,
    )
