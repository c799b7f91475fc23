"""An event-only sensor (as a replay mapping declares them) is never taken offline by the heartbeat
check for being quiet; a sensor with heartbeats still is. Against the real database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg

from devices import queries as registry
from devices.health import mark_silent_offline

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def test_silence_takes_only_devices_with_heartbeats_offline(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        org = await registry.insert_organisation(conn, name="Org")
        home = await registry.insert_home(conn, organisation_id=org, name="Home")
        quiet = await registry.insert_device(conn, home_id=home, device_type="flush_sensor", room="bathroom")
        beating = await registry.insert_device(conn, home_id=home, device_type="motion_sensor", room="lounge")
        await registry.set_device_kit(conn, device_id=quiet, role="flush", event_only=True)
        for device in (quiet, beating):
            await conn.execute(
                "INSERT INTO device_health (device_id, home_id, last_seen_at, online)"
                " VALUES ($1, $2, $3, true)",
                device,
                home,
                T0,
            )
        events = await mark_silent_offline(conn, now=T0 + timedelta(hours=6))
        row = await conn.fetchrow("SELECT role, event_only FROM devices WHERE id = $1", quiet)
    assert [e.device_id for e in events] == [beating]
    assert row is not None and row["role"] == "flush" and row["event_only"]
