"""A replayed log through the real broker, ingest, database and detector on one virtual clock: silence is
seen at accelerated speed, a night exit raises, ON/OFF plug values are stored, each replay has a home of
its own, storage upkeep deletes nothing of it, and the fast path (anomaly/virtual.py) decides the same."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
import orjson
import pytest

from anomaly.clock import LocalClock
from anomaly.config import DetectorConfig
from anomaly.virtual import Replayed
from ingest import upkeep
from kernel.db import create_pool
from kernel.settings import Settings
from simulators.replay import Mapping, Row, parse_line, shift_rows
from simulators.replay_ingest import ThroughIngest, decisions_compared, replay_through_ingest
from simulators.replay_run import run_rows

MAPPING_JSON = {
    "home": "Flat 9",
    "timezone": "Europe/Amsterdam",
    "sensors": {
        "M1": {"key": "motion-kitchen", "type": "motion_sensor", "room": "kitchen"},
        "D1": {"key": "door-front", "type": "door_contact", "room": "hallway", "role": "front_door"},
        "P1": {"key": "plug-kettle", "type": "smart_plug", "room": "kitchen", "on_watts": 2000},
        "F1": {"key": "flush", "type": "flush_sensor", "room": "bathroom", "role": "flush"},
        "B1": {"key": "bed", "type": "bed_sensor", "room": "bedroom", "role": "bed"},
    },
}
MAPPING = Mapping.parse(MAPPING_JSON)
# Up at 08:00, about until 08:30, then nothing until 13:00 (a silence while up); in bed at 22:00, and the
# front door at 03:00 while in bed (a night exit).
LOG = """\
2012-03-01 07:00:00 B1 ON
2012-03-01 08:00:00 B1 OFF
2012-03-01 08:05:00 M1 ON
2012-03-01 08:05:10 M1 OFF
2012-03-01 08:10:00 P1 ON
2012-03-01 08:13:00 P1 OFF
2012-03-01 08:20:00 F1 ON
2012-03-01 08:20:02 F1 OFF
2012-03-01 08:30:00 M1 ON
2012-03-01 13:00:00 M1 ON
2012-03-01 13:00:10 M1 OFF
2012-03-01 14:00:00 M1 ON
2012-03-01 14:40:00 M1 ON
2012-03-01 15:00:00 M1 ON
2012-03-01 15:40:00 M1 ON
2012-03-01 16:00:00 M1 ON
2012-03-01 16:40:00 M1 ON
2012-03-01 17:00:00 M1 ON
2012-03-01 17:40:00 M1 ON
2012-03-01 18:00:00 M1 ON
2012-03-01 18:40:00 M1 ON
2012-03-01 19:00:00 M1 ON
2012-03-01 19:40:00 M1 ON
2012-03-01 20:00:00 M1 ON
2012-03-01 20:40:00 M1 ON
2012-03-01 21:00:00 M1 ON
2012-03-01 21:40:00 M1 ON
2012-03-01 21:55:00 M1 ON
2012-03-01 22:00:00 B1 ON
2012-03-02 03:00:00 D1 OPEN
2012-03-02 03:00:20 D1 CLOSE
2012-03-02 03:10:00 M1 ON
2012-03-02 03:30:00 B1 ON
"""
NOW = datetime.now(UTC)
ZONE = ZoneInfo("Europe/Amsterdam")


def _rows() -> list[Row]:
    rows = [parse_line(line, n, MAPPING, ZONE) for n, line in enumerate(LOG.splitlines(), 1)]
    return [r for r in rows if r is not None]


def _local(run: Replayed, kind: str) -> list[str]:
    clock = LocalClock(MAPPING.tz)
    return [clock.hhmm(d.raised_at) for d in run.decisions if d.kind == kind]


async def _replay(settings: Settings) -> ThroughIngest:
    return await replay_through_ingest(settings, MAPPING, _rows(), DetectorConfig(), now=NOW)


async def test_a_replay_through_ingest_sees_silence_and_a_night_exit_as_live(settings: Settings) -> None:
    began = time.monotonic()
    done = await _replay(settings)
    elapsed = time.monotonic() - began
    # 20 hours of a home judged in well under a minute: the silence is seen on the virtual clock.
    assert elapsed < 120 and done.run.end - done.run.start > 19 * 3600
    assert _local(done.run, "inactivity") == ["11:00"]  # 08:30 + the default 2 h 30
    # The door at 03:00:00 is read at the tick that follows it (live: within the detector's poll).
    assert _local(done.run, "night_wandering") == ["03:01"]
    assert "device_offline" not in {d.kind for d in done.run.decisions}  # event-only sensors
    assert done.alerts_in_db == {"inactivity": 1, "night_wandering": 1}
    assert done.stored == done.published == len(done.rows) and done.dead_lettered == 0
    # The fast path on the same (moved) log decides the same alerts.
    fast = run_rows(MAPPING, done.rows, DetectorConfig(), seed="same")
    assert decisions_compared(fast, done.run, names=_names(fast, done)) == []


async def test_a_sensor_declaring_heartbeats_goes_offline_on_the_virtual_clock(settings: Settings) -> None:
    beating = Mapping.parse({**MAPPING_JSON, "event_only": False})
    done = await replay_through_ingest(settings, beating, _rows(), DetectorConfig(), now=NOW)
    offline = [d for d in done.run.decisions if d.kind == "device_offline"]
    # Judged by the heartbeat check and the detector on the replay's clock, within the replayed day.
    assert offline and all(done.run.start < d.raised_at < done.run.end for d in offline)
    assert done.alerts_in_db["device_offline"] == len(offline)
    fast = run_rows(beating, done.rows, DetectorConfig(), seed="beating")
    assert decisions_compared(fast, done.run, names=_names(fast, done)) == []


def _names(fast: Replayed, done: ThroughIngest) -> dict[str, str]:
    names = {str(ident): key for ident, key in done.device_keys.items()}
    names |= {str(uuid.uuid5(fast.home_id, key)): key for key in MAPPING.by_key()}
    return names


async def test_replayed_values_homes_and_storage(settings: Settings) -> None:
    first = await _replay(settings)
    second = await _replay(settings)
    assert first.home_id != second.home_id and first.home_name != second.home_name
    assert first.home_name.startswith("Flat 9 (replayed ")
    pool = await create_pool(settings.database_url or "", min_size=1, max_size=2)
    try:
        async with pool.acquire() as conn:
            await _check_stored(conn, first)
    finally:
        await pool.close()


async def _check_stored(conn: asyncpg.Connection, done: ThroughIngest) -> None:
    home = await conn.fetchrow("SELECT timezone FROM homes WHERE id = $1", done.home_id)
    assert home is not None and home["timezone"] == "Europe/Amsterdam"
    kit = await conn.fetch("SELECT type, role, event_only FROM devices WHERE home_id = $1", done.home_id)
    assert ("door_contact", "front_door", True) in {(r["type"], r["role"], r["event_only"]) for r in kit}
    plug = await conn.fetch(
        "SELECT value FROM readings WHERE home_id = $1 AND kind = 'power' ORDER BY time", done.home_id
    )
    assert [r["value"] for r in plug] == [2000.0, 0.0]  # logged as ON and OFF
    # Arrivals were stamped on the virtual clock, within a tick of each event, not at the wall clock.
    lags = await conn.fetchrow(
        "SELECT min(extract(epoch FROM received_at - time)) AS low,"
        " max(extract(epoch FROM received_at - time)) AS high FROM readings WHERE home_id = $1",
        done.home_id,
    )
    assert lags is not None and lags["low"] > 0 and lags["high"] <= 60  # after the event, within a tick
    # The 2012 log was moved by whole weeks to end before now, weekday and local time kept ...
    first = await conn.fetchval("SELECT min(time) FROM readings WHERE home_id = $1", done.home_id)
    assert NOW - timedelta(days=8) < first < NOW
    assert first.astimezone(ZONE).strftime("%A %H:%M") == "Thursday 07:00"  # 2012-03-01 was a Thursday
    # ... in partitions of its days, so the storage upkeep keeps all of it.
    before = await conn.fetchval("SELECT count(*) FROM readings WHERE home_id = $1", done.home_id)
    assert await conn.fetchval("SELECT count(*) FROM readings_default") == 0
    await upkeep.run_once(conn, retention_days=365, ahead_days=7)
    assert await conn.fetchval("SELECT count(*) FROM readings WHERE home_id = $1", done.home_id) == before


def test_an_old_log_is_moved_by_whole_weeks_keeping_local_time_across_daylight_saving() -> None:
    summer = [parse_line("2012-07-05 08:00:00 M1 ON", 1, MAPPING, ZONE)]  # CEST, a Thursday
    assert summer[0] is not None
    moved = shift_rows([summer[0]], MAPPING.tz, datetime(2026, 12, 2, 12, 0, tzinfo=UTC))  # CET now
    local = moved[0].at.astimezone(ZONE)
    assert local.strftime("%A %H:%M") == "Thursday 08:00" and local.date() == date(2026, 11, 26)


def test_the_replay_command_goes_through_ingest_on_servers_of_its_own(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from telecare.cli import main

    (tmp_path / "map.json").write_bytes(orjson.dumps(MAPPING_JSON))
    (tmp_path / "log.txt").write_text(LOG)
    out = tmp_path / "alerts.json"
    argv = ["replay", str(tmp_path / "log.txt"), "--mapping", str(tmp_path / "map.json"), "--json", str(out)]
    assert main([*argv, "--through-ingest"]) == 0
    printed = capsys.readouterr().out
    assert "through broker, ingest and database as 'Flat 9 (replayed " in printed
    data = orjson.loads(out.read_bytes())
    assert data["through_ingest"]["stored"] == data["readings"] == len(_rows())
    assert data["alerts_by_kind"] == data["through_ingest"]["alerts_in_database"]
    assert data["alerts_by_kind"] == {"inactivity": 1, "night_wandering": 1}


async def test_a_replay_through_ingest_on_timescaledb_keeps_what_it_replayed(
    settings: Settings, ts_db_url: str
) -> None:
    ts = settings.model_copy(update={"database_url": ts_db_url})
    done = await replay_through_ingest(ts, MAPPING, _rows(), DetectorConfig(), now=NOW)
    assert done.alerts_in_db == {"inactivity": 1, "night_wandering": 1}
    pool = await create_pool(ts_db_url, min_size=1, max_size=1)
    try:
        async with pool.acquire() as conn:
            # The retention policy drops chunks older than the retention: the moved log is recent.
            await conn.execute("SELECT drop_chunks('readings', older_than => now() - interval '365 days')")
            kept = await conn.fetchval("SELECT count(*) FROM readings WHERE home_id = $1", done.home_id)
    finally:
        await pool.close()
    assert kept == len(done.rows)
