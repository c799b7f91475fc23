"""Registry SQL: devices, their credentials and their health."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

import asyncpg

from accounts.tenancy import Scope


async def scoped_device(conn: asyncpg.Connection, *, device_id: UUID, scope: Scope) -> asyncpg.Record | None:
    """A device with its home's organisation, if the scope sees the home, else None."""
    where, args = scope.where(org_column="h.organisation_id", home_column="h.id", param=2)
    return await conn.fetchrow(
        f"""
        SELECT d.*, h.organisation_id FROM devices d JOIN homes h ON h.id = d.home_id
        WHERE d.id = $1 AND {where}
        """,
        device_id,
        *args,
    )


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
    await conn.execute(
        "UPDATE device_credentials SET rotated_at = now(), revoked_at = NULL WHERE device_id = $1", device_id
    )


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


# An event-only device declares no heartbeat: its silence never takes it offline.
NO_HEARTBEAT_S = 10 * 365 * 86400.0


async def device_routes(
    conn: asyncpg.Connection, *, device_ids: list[UUID] | None = None
) -> dict[UUID, tuple[UUID, str, bool, float]]:
    """device id -> (home id, status, is a hub, heartbeat interval s) of every device (or of these)."""
    select = f"""
        SELECT d.id, d.home_id, d.status, d.type = 'hub' AS hub,
               CASE WHEN d.event_only THEN {NO_HEARTBEAT_S} ELSE t.heartbeat_interval_s END AS beat
        FROM {{source}} JOIN device_types t ON t.type = d.type
    """
    if device_ids is None:
        rows = await conn.fetch(select.format(source="devices d"))
    else:
        # A join with the id array, not `= ANY(...)`: see lock_health.
        source = "unnest($1::uuid[]) AS k (id) JOIN devices d ON d.id = k.id"
        rows = await conn.fetch(select.format(source=source), device_ids)
    return {r["id"]: (r["home_id"], r["status"], r["hub"], float(r["beat"])) for r in rows}


HEALTH_COLUMNS = (
    "device_id, home_id, last_seen_at, last_event_at, battery_pct, rssi_dbm, firmware, uptime_s, online, "
    "online_changed_at, offline_reason, low_battery"
)


_HEALTH_COLUMNS_OF_H = ", ".join(f"h.{column.strip()}" for column in HEALTH_COLUMNS.split(","))


async def lock_health(
    conn: asyncpg.Connection, *, device_ids: list[UUID], if_offline: list[UUID] | None = None
) -> dict[UUID, dict[str, Any]]:
    """Current health rows of these devices, and of those in if_offline that are not online, locked
    until the transaction ends (workers may race), always in device order (so they cannot deadlock)."""
    quiet = if_offline or []
    # A join with the id arrays rather than `device_id = ANY($1)`: a cached generic plan for the latter
    # picked while the table was small (or before it was analysed) scans the whole table every time.
    rows = await conn.fetch(
        f"""
        SELECT {_HEALTH_COLUMNS_OF_H}
        FROM unnest($1::uuid[], $2::boolean[]) AS d (device_id, quiet)
        JOIN device_health h ON h.device_id = d.device_id
        WHERE NOT d.quiet OR NOT h.online
        ORDER BY h.device_id FOR UPDATE OF h
        """,
        [*device_ids, *quiet],
        [False] * len(device_ids) + [True] * len(quiet),
    )
    return {r["device_id"]: dict(r) for r in rows}


async def touch_online(conn: asyncpg.Connection, *, rows: list[tuple[UUID, datetime, datetime]]) -> set[UUID]:
    """Set last_seen_at/last_event_at of these (device, seen, event) rows where the device is online;
    returns the devices written (locked in device order, like lock_health)."""
    if not rows:
        return set()
    written = await conn.fetch(
        """
        WITH d AS (SELECT * FROM unnest($1::uuid[], $2::timestamptz[], $3::timestamptz[])
                   AS d (device_id, seen, event)),
        locked AS (SELECT h.device_id FROM d JOIN device_health h ON h.device_id = d.device_id
                   WHERE h.online ORDER BY h.device_id FOR UPDATE OF h)
        UPDATE device_health h SET last_seen_at = d.seen, last_event_at = d.event, updated_at = now()
        FROM d JOIN locked l ON l.device_id = d.device_id
        WHERE h.device_id = d.device_id
        RETURNING h.device_id
        """,
        *(list(column) for column in zip(*rows, strict=True)),
    )
    return {r["device_id"] for r in written}


async def upsert_health(conn: asyncpg.Connection, *, rows: list[tuple[Any, ...]]) -> None:
    """Write health rows (in HEALTH_COLUMNS order, one per device) in one statement."""
    if not rows:
        return
    await conn.execute(
        f"""
        INSERT INTO device_health ({HEALTH_COLUMNS}, updated_at)
        SELECT *, now() FROM unnest(
            $1::uuid[], $2::uuid[], $3::timestamptz[], $4::timestamptz[], $5::smallint[], $6::smallint[],
            $7::text[], $8::bigint[], $9::boolean[], $10::timestamptz[], $11::text[], $12::boolean[])
        ON CONFLICT (device_id) DO UPDATE SET
            last_seen_at = excluded.last_seen_at, last_event_at = excluded.last_event_at,
            battery_pct = excluded.battery_pct, rssi_dbm = excluded.rssi_dbm, firmware = excluded.firmware,
            uptime_s = excluded.uptime_s, online = excluded.online,
            online_changed_at = excluded.online_changed_at, offline_reason = excluded.offline_reason,
            low_battery = excluded.low_battery, updated_at = now()
        """,
        *(list(column) for column in zip(*rows, strict=True)),
    )


async def insert_health_events(conn: asyncpg.Connection, *, rows: list[tuple[Any, ...]]) -> None:
    """Record health events: (device_id, home_id, kind, at, detail), in one statement."""
    if rows:
        await conn.execute(
            "INSERT INTO device_health_events (device_id, home_id, kind, at, detail)"
            " SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::timestamptz[], $5::jsonb[])",
            *(list(column) for column in zip(*rows, strict=True)),
        )


async def set_device_kit(conn: asyncpg.Connection, *, device_id: UUID, role: str, event_only: bool) -> None:
    """A device's explicit role and whether it sends only events (no heartbeats)."""
    await conn.execute(
        "UPDATE devices SET role = $2, event_only = $3 WHERE id = $1", device_id, role, event_only
    )


async def mark_silent_offline(
    conn: asyncpg.Connection, *, now: datetime, grace_fraction: float, min_grace_s: float
) -> list[asyncpg.Record]:
    """Set online=false for active devices silent past interval + grace; returns those devices.

    A device behind a home hub that is offline (any other device of a home with a hub) is left as it
    was: its silence is the hub's, which is one alert for the home (anomaly/hub.py), not one per device.
    """
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        UPDATE device_health h
        SET online = false, online_changed_at = $1::timestamptz, offline_reason = 'missed_heartbeats',
            updated_at = now()
        FROM devices d JOIN device_types t ON t.type = d.type
        WHERE h.device_id = d.id AND h.online AND d.status = 'active' AND NOT d.event_only
          AND h.last_seen_at < $1::timestamptz - make_interval(
                secs => t.heartbeat_interval_s + greatest($3::float8, t.heartbeat_interval_s * $2::float8))
          AND (d.type = 'hub' OR NOT EXISTS (
                SELECT 1 FROM devices hub JOIN device_health hh ON hh.device_id = hub.id
                WHERE hub.home_id = d.home_id AND hub.type = 'hub' AND hub.status = 'active'
                  AND NOT hh.online))
        RETURNING h.device_id, h.home_id, h.last_seen_at
        """,
        now,
        grace_fraction,
        min_grace_s,
    )
    return rows


async def select_health(
    conn: asyncpg.Connection, *, home_id: UUID | None = None, organisation_id: UUID | None = None
) -> list[asyncpg.Record]:
    """Devices with their health, for one home or one organisation."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT d.id AS device_id, d.home_id, d.type, d.model, d.room, d.status, t.heartbeat_interval_s,
               h.last_seen_at, h.last_event_at, h.battery_pct, h.rssi_dbm,
               coalesce(h.firmware, nullif(d.firmware, '')) AS firmware, h.uptime_s,
               coalesce(h.online, false) AS online, h.online_changed_at,
               coalesce(h.offline_reason, 'never_seen') AS offline_reason,
               coalesce(h.low_battery, false) AS low_battery
        FROM devices d
        JOIN homes ho ON ho.id = d.home_id
        JOIN device_types t ON t.type = d.type
        LEFT JOIN device_health h ON h.device_id = d.id
        WHERE ($1::uuid IS NULL OR d.home_id = $1) AND ($2::uuid IS NULL OR ho.organisation_id = $2)
          AND d.status <> 'decommissioned'
        ORDER BY d.home_id, d.room, d.type, d.id
        """,
        home_id,
        organisation_id,
    )
    return rows
