"""An event-only sensor (as a replay mapping declares them) is never taken offline by the heartbeat
check for being quiet; a sensor with heartbeats still is; a published replay is a home of its own, in
its zone, with its roles, on recent dates. Against the real database and broker."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import orjson

from devices import queries as registry
from devices.dynsec import connect_admin
from devices.health import mark_silent_offline
from homes import queries as home_queries
from kernel.connect import mqtt_config
from kernel.embedded import EmbeddedMosquitto
from simulators.service import SimOptions, simulate
from tests.support import Rig, wait_until

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def test_silence_takes_only_devices_with_heartbeats_offline(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        org = await home_queries.insert_organisation(conn, name="Org")
        home = await home_queries.insert_home(conn, organisation_id=org, name="Home")
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


async def test_a_published_replay_gets_a_home_of_its_own_in_its_zone_on_recent_dates(
    rig: Rig, broker: EmbeddedMosquitto, tmp_path: Path
) -> None:
    log = tmp_path / "log.txt"
    log.write_text("2009-07-21 08:00:00 M1 ON\n2009-07-21 08:10:00 F1 ON\n2009-07-21 08:10:02 F1 OFF\n")
    mapping = tmp_path / "map.json"
    sensors = {
        "M1": {"key": "motion-kitchen", "type": "motion_sensor", "room": "kitchen", "event_only": False},
        "F1": {"key": "flush", "type": "flush_sensor", "role": "toilet_flush", "room": "bathroom"},
    }
    mapping.write_bytes(orjson.dumps({"home": "House B", "timezone": "Europe/Amsterdam", "sensors": sensors}))
    options = SimOptions(replay=log, mapping=mapping)
    root, url = rig.settings.mqtt_topic_root, f"mqtt://127.0.0.1:{broker.port}"
    async with connect_admin(mqtt_config(rig.settings, client_id=f"rp-{uuid.uuid4().hex[:6]}")) as admin:
        first = await simulate(rig.pool, admin, options, topic_root=root, mqtt_url=url)
        second = await simulate(rig.pool, admin, options, topic_root=root, mqtt_url=url)
    assert first.homes != second.homes and first.homes[0].startswith("House B (replayed ")
    async with rig.pool.acquire() as conn:
        home = await conn.fetchrow("SELECT id, timezone FROM homes WHERE name = $1", first.homes[0])
        assert home is not None and home["timezone"] == "Europe/Amsterdam"
        kit = await conn.fetch("SELECT type, role, event_only FROM devices WHERE home_id = $1", home["id"])
        assert {(r["type"], r["role"], r["event_only"]) for r in kit} == {
            ("motion_sensor", "", False),
            ("flush_sensor", "flush", True),
        }
    await wait_until(rig.pool, "SELECT count(*) FROM readings WHERE home_id = $1", home["id"], at_least=2)
    async with rig.pool.acquire() as conn:
        times = [
            r["time"] for r in await conn.fetch("SELECT time FROM readings WHERE home_id = $1", home["id"])
        ]
    now = datetime.now(UTC)
    assert len(times) == 2 and all(now - timedelta(days=7) < t < now for t in times)  # one flush, recent
