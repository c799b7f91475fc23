"""Replaying one's own log: the mapping (roles, time zone, value forms, event-only sensors), one flush
per flush, silence judged on the virtual clock, a home of its own per replay, recent dates."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

import orjson
import pytest

from anomaly.config import DetectorConfig
from simulators.replay import Mapping, ReplayError, load_replay, read_rows
from simulators.replay_run import devices_for, report, run_log

MAPPING = {
    "home": "Flat 3",
    "timezone": "America/New_York",
    "sensors": {
        "M1": {"key": "motion-kitchen", "type": "motion_sensor", "room": "kitchen"},
        "D1": {"key": "door-front", "type": "door_contact", "room": "porch", "role": "front_door"},
        "P1": {"key": "plug-kettle", "type": "smart_plug", "room": "kitchen"},
        "F1": {"key": "flush", "type": "flush_sensor", "role": "toilet_flush", "room": "bathroom"},
        "F2": {"key": "flush", "type": "flush_sensor", "role": "toilet_flush", "room": "bathroom"},
        "B1": {"key": "bed", "type": "bed_sensor", "role": "bed", "room": "bedroom", "values": "pulse"},
        "C1": {"key": "cupboard", "type": "door_contact", "role": "kitchen"},
    },
}
LOG = """\
2012-03-01 08:00:00 M1 ON
2012-03-01 08:00:05 M1 OFF
2012-03-01 08:01:00 P1 ON
2012-03-01 08:04:00 P1 OFF
2012-03-01 08:10:00 F1 ON
2012-03-01 08:10:01 F2 ON
2012-03-01 08:10:03 F1 OFF
2012-03-01 08:12:00 B1 ON
2012-03-01 08:12:01 B1 OFF
2012-03-01 08:20:00 C1 OPEN
2012-03-01 13:00:00 M1 ON
"""


def _files(tmp_path: Path, mapping: Any = MAPPING, log: str = LOG) -> tuple[Path, Mapping]:
    (tmp_path / "map.json").write_bytes(orjson.dumps(mapping))
    (tmp_path / "log.txt").write_text(log)
    return tmp_path / "log.txt", Mapping.load(tmp_path / "map.json")


def test_the_mapping_gives_roles_time_zone_and_value_forms(tmp_path: Path) -> None:
    log, mapping = _files(tmp_path)
    assert mapping.tz == "America/New_York" and mapping.home == "Flat 3"
    rows = read_rows(log, mapping)
    kinds = [(r.sensor.key, r.fields) for r in rows]
    assert ("plug-kettle", {"watts": 1000.0}) in kinds and ("plug-kettle", {"watts": 0.0}) in kinds
    assert [k for k, _ in kinds].count("flush") == 1  # two lines and two sensors: one flush
    assert [k for k, _ in kinds].count("bed") == 1  # a pulse mat: the press, no "empty"
    assert rows[0].at == datetime(2012, 3, 1, 13, 0, tzinfo=UTC)  # 08:00 in New York
    devices, _ = devices_for(mapping, uuid4())
    roles = {d.room: d.role for d in devices}
    assert roles["porch"] == "front_door" and all(d.event_only for d in devices)
    assert {d.role for d in devices if d.type == "door_contact" and d.room == "kitchen"} == {"door"}


def test_a_bad_mapping_is_refused_with_the_reason(tmp_path: Path) -> None:
    bad = {"timezone": "Mars/Olympus", "sensors": {}}
    with pytest.raises(ReplayError, match="time zone"):
        _files(tmp_path, bad)
    wrong_role = {"sensors": {"X": {"type": "door_contact", "role": "garden_gnome"}}}
    with pytest.raises(ReplayError, match="role 'garden_gnome'"):
        _files(tmp_path, wrong_role)
    log, mapping = _files(tmp_path, log="2012-03-01 08:00:00 P1 hot\n")
    with pytest.raises(ReplayError, match="line 1: plug-kettle expects a number or ON/OFF"):
        read_rows(log, mapping)


def test_a_replay_played_fast_sees_silence_and_an_event_only_sensor_is_never_offline(tmp_path: Path) -> None:
    log, mapping = _files(tmp_path)
    data = report(run_log(log, mapping, DetectorConfig()), mapping)
    quiet = [a for a in data["alerts"] if a["kind"] == "inactivity"]
    assert quiet and quiet[0]["raised"] == "2012-03-01 10:50"  # 08:20 + the default 2 h 30
    assert "device_offline" not in data["alerts_by_kind"]
    assert any("no bed sensor" not in n and "no motion sensor in bathroom" in n for n in data["cannot_judge"])


def test_a_sensor_with_a_declared_heartbeat_is_offline_after_its_silence(tmp_path: Path) -> None:
    beating = {**MAPPING, "event_only": False}
    log, mapping = _files(tmp_path, beating)
    data = report(run_log(log, mapping, DetectorConfig()), mapping)
    assert data["alerts_by_kind"].get("device_offline", 0) >= 1


def test_each_replay_is_a_home_of_its_own(tmp_path: Path) -> None:
    log, mapping = _files(tmp_path)
    first = run_log(log, mapping, DetectorConfig())
    second = run_log(log, mapping, DetectorConfig())
    assert first.home_id != second.home_id


def test_published_replays_move_to_recent_weeks_at_the_same_local_time(tmp_path: Path) -> None:
    log, mapping = _files(tmp_path)
    now = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    stream, specs = load_replay(log, mapping, home_name="Flat 3", recent=now)
    zone = ZoneInfo("America/New_York")
    first = stream.events[0].at
    assert (now - stream.events[-1].at).days < 7 and first < now
    assert first.astimezone(zone).strftime("%H:%M %A") == "08:00 Thursday"  # 2012-03-01 was a Thursday
    assert stream.tz == "America/New_York" and {s.key for s in specs} >= {"flush", "bed"}


def test_the_replay_command_prints_the_alerts_and_writes_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from telecare.cli import main

    log, _ = _files(tmp_path)
    out = tmp_path / "alerts.json"
    assert main(["replay", str(log), "--mapping", str(tmp_path / "map.json"), "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Flat 3 (America/New_York)" in printed and "inactivity" in printed
    assert orjson.loads(out.read_bytes())["alerts_by_kind"]["inactivity"] >= 1
    (tmp_path / "bad.json").write_text("{")
    assert main(["replay", str(log), "--mapping", str(tmp_path / "bad.json")]) == 2
    assert "not JSON" in capsys.readouterr().err


def test_numeric_values_for_every_kind_and_on_off_only_where_it_means_something(tmp_path: Path) -> None:
    mapping = {
        "sensors": {
            "M1": {"key": "motion", "type": "motion_sensor", "room": "kitchen"},
            "B1": {"key": "bed", "type": "bed_sensor", "room": "bedroom", "on_above": 50},
            "T1": {"key": "temp", "type": "temperature_sensor", "room": "lounge"},
        }
    }
    log = "2012-03-01 08:00:00 M1 1.0\n2012-03-01 08:00:05 M1 0\n2012-03-01 08:01:00 B1 312.5\n"
    log += "2012-03-01 08:02:00 B1 12\n2012-03-01 08:03:00 T1 19.5\n"
    path, loaded = _files(tmp_path, mapping, log)
    fields = [(r.sensor.key, r.fields) for r in read_rows(path, loaded)]
    assert fields == [
        ("motion", {"detected": True}),
        ("motion", {"detected": False}),
        ("bed", {"occupied": True}),  # a pressure above on_above: someone on the mat
        ("bed", {"occupied": False}),
        ("temp", {"celsius": 19.5}),
    ]
    path, loaded = _files(tmp_path, mapping, "2012-03-01 08:03:00 T1 ON\n")
    with pytest.raises(ReplayError, match="line 1: temp expects a number, got 'ON'"):
        read_rows(path, loaded)
