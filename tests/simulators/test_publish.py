"""Simulated homes and replays driven through the real broker into the database."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import orjson

from devices.dynsec import connect_admin
from homes import queries as home_queries
from kernel.connect import mqtt_config
from kernel.embedded import EmbeddedMosquitto
from simulators.home import simulate_home
from simulators.model import ScenarioItem
from simulators.publisher import provision_home, publish_homes
from simulators.replay import Mapping, load_replay
from tests.support import Rig, wait_until


async def _org(rig: Rig) -> uuid.UUID:
    async with rig.pool.acquire() as conn:
        return await home_queries.insert_organisation(conn, name="Sim org")


async def test_a_simulated_day_arrives_as_the_simulator_recorded_it(
    rig: Rig, broker: EmbeddedMosquitto
) -> None:
    stream = simulate_home(
        seed=11,
        profile="frail",
        layout="flat",
        start=date(2026, 3, 2),
        days=1,
        scenario=[ScenarioItem(kind="alarm_pressed", day=0, at=time(10, 30))],
    )
    # The day has a dropped connection (its last will), duplicates, delays and skewed clocks.
    assert any(e.kind == "presence" and e.fields["state"] == "offline" for e in stream.events)
    assert any(e.duplicate for e in stream.events) and any(e.skew_s for e in stream.events)
    root = rig.settings.mqtt_topic_root
    async with connect_admin(mqtt_config(rig.settings, client_id="sim-admin")) as admin:
        home = await provision_home(
            rig.pool, admin, topic_root=root, organisation_id=await _org(rig), stream=stream
        )
    sent = await publish_homes([home], host="127.0.0.1", port=broker.port, topic_root=root, speed=None)
    unique = {(d, s): (k, at) for d, s, k, at in sent.acked}
    assert len(unique) == len(stream.events) - sent.duplicates
    await wait_until(
        rig.pool, "SELECT count(*) FROM readings WHERE home_id = $1", home.home_id, at_least=len(unique)
    )
    await asyncio.sleep(0.3)
    async with rig.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT device_id, seq, kind, time FROM readings WHERE home_id = $1", home.home_id
        )
        dead = await conn.fetchval("SELECT count(*) FROM dead_letters")
    stored = {(r["device_id"], r["seq"]): (r["kind"], r["time"]) for r in rows}
    assert stored == unique and len(rows) == len(unique) and dead == 0
    alarm = next(i for i in stream.incidents if i.kind == "alarm_pressed")
    alarms = [at for kind, at in stored.values() if kind == "alarm"]
    assert any(alarm.start <= at <= alarm.end for at in alarms)


async def test_a_replayed_log_arrives_intact(rig: Rig, broker: EmbeddedMosquitto, tmp_path: Path) -> None:
    log = tmp_path / "events.txt"
    log.write_text(
        "2011-11-28 02:27:59 M003 ON\n"
        "2011-11-28 02:28:04.5 M003 OFF\n"
        "2011-11-28 02:29:10 D001 OPEN Sleep begin\n"
        "2011-11-28 02:29:40 D001 CLOSE\n"
        "2011-11-28 02:30:00 T001 19.5\n"
        "2011-11-28 02:31:00 X999 ON\n"
        "\n"
    )
    mapping_file = tmp_path / "mapping.json"
    mapping_file.write_bytes(
        orjson.dumps(
            {
                "M003": {"key": "motion-bedroom", "type": "motion_sensor", "room": "bedroom"},
                "D001": {"key": "door-front", "type": "door_contact", "room": "hallway"},
                "T001": {"key": "temp-lounge", "type": "temperature_sensor", "room": "lounge"},
            }
        )
    )
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    stream, specs = load_replay(log, Mapping.load(mapping_file), home_name="Replay home", start=start)
    assert len(stream.events) == 5  # X999 is not in the mapping
    root = rig.settings.mqtt_topic_root
    async with connect_admin(mqtt_config(rig.settings, client_id="replay-admin")) as admin:
        home = await provision_home(
            rig.pool, admin, topic_root=root, organisation_id=await _org(rig), stream=stream, specs=specs
        )
    await publish_homes([home], host="127.0.0.1", port=broker.port, topic_root=root, speed=None)
    await wait_until(rig.pool, "SELECT count(*) FROM readings WHERE home_id = $1", home.home_id, at_least=5)
    async with rig.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT kind, time, value FROM readings WHERE home_id = $1 ORDER BY time", home.home_id
        )
    assert [(r["kind"], r["value"]) for r in rows] == [
        ("motion", 1.0),
        ("motion", 0.0),
        ("contact", 1.0),
        ("contact", 0.0),
        ("temperature", 19.5),
    ]
    offsets = [(r["time"] - rows[0]["time"]).total_seconds() for r in rows]
    assert offsets == [0.0, 5.5, 71.0, 101.0, 121.0]
    assert rows[0]["time"] == start
