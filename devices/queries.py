"""Registry SQL: organisations, homes, residents, devices and their credentials."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

import asyncpg


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


async def insert_device(
    conn: asyncpg.Connection,
    *,
    home_id: UUID,
    device_type: str,
    model: str = "",
    room: str = "",
    installed_on: date | None = None,
    firmware: str = "",
) -> UUID:
    """Register a device in a home; returns its id."""
    return await conn.fetchval(  # type: ignore[no-any-return]
        """
        INSERT INTO devices (home_id, type, model, room, installed_on, firmware)
        VALUES ($1, $2, $3, $4, coalesce($5, current_date), $6) RETURNING id
        """,
        home_id,
        device_type,
        model,
        room,
        installed_on,
        firmware,
    )


async def insert_credential(conn: asyncpg.Connection, *, device_id: UUID, username: str) -> None:
    """Record the device's broker identity."""
    await conn.execute(
        "INSERT INTO device_credentials (device_id, mqtt_username) VALUES ($1, $2)", device_id, username
    )


async def get_device(conn: asyncpg.Connection, *, device_id: UUID) -> asyncpg.Record | None:
    """One device with its credential columns, or None."""
    return await conn.fetchrow(
        """
        SELECT d.*, c.mqtt_username, c.issued_at, c.rotated_at, c.revoked_at
        FROM devices d LEFT JOIN device_credentials c ON c.device_id = d.id
        WHERE d.id = $1
        """,
        device_id,
    )


async def set_device_status(conn: asyncpg.Connection, *, device_id: UUID, status: str) -> None:
    """Mark a device active, revoked or decommissioned (and time the credential change)."""
    await conn.execute(
        """
        UPDATE devices SET status = $2,
               decommissioned_at = CASE WHEN $2 = 'decommissioned' THEN now() ELSE decommissioned_at END
        WHERE id = $1
        """,
        device_id,
        status,
    )
    if status in ("revoked", "decommissioned"):
        await conn.execute("UPDATE device_credentials SET revoked_at = now() WHERE device_id = $1", device_id)


async def mark_rotated(conn: asyncpg.Connection, *, device_id: UUID) -> None:
    """Note that the device's password was rotated now."""
    await conn.execute("UPDATE device_credentials SET rotated_at = now() WHERE device_id = $1", device_id)


async def list_devices(conn: asyncpg.Connection, *, home_id: UUID | None = None) -> list[asyncpg.Record]:
    """Devices with credentials, optionally of one home."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT d.*, c.mqtt_username FROM devices d
        LEFT JOIN device_credentials c ON c.device_id = d.id
        WHERE $1::uuid IS NULL OR d.home_id = $1
        ORDER BY d.created_at, d.id
        """,
        home_id,
    )
    return rows


async def device_routes(conn: asyncpg.Connection) -> dict[UUID, tuple[UUID, str]]:
    """device id -> (home id, status), for the ingest worker's cache."""
    rows = await conn.fetch("SELECT id, home_id, status FROM devices")
    return {r["id"]: (r["home_id"], r["status"]) for r in rows}


def record_to_dict(record: asyncpg.Record | None) -> dict[str, Any] | None:
    """A record as a plain dict (None stays None)."""
    return dict(record) if record is not None else None
