"""`telecare replay LOG --mapping JSON`: a log played through the detector on one virtual clock.

The log is played as fast as the machine goes, the detector's clock moving through it (anomaly/virtual.py),
so silences are judged as they would have been live. A home of its own per replay (a fresh id and state),
its time zone and sensors from the mapping; nothing is written to the database, so storage retention
cannot delete what was replayed. With `--through-ingest` the same log goes through the broker, ingest,
the database and the detector service on one virtual clock instead (simulators/replay_ingest.py); the
report is the same. (`telecare simulate --replay` publishes a log into a deployment at wall speed.)
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from anomaly.clock import LocalClock, day_iso
from anomaly.config import DetectorConfig
from anomaly.model import Device
from anomaly.virtual import Event, Replayed, heartbeats, replay
from simulators.layouts import HEARTBEAT_S
from simulators.replay import Mapping, Row, read_rows

if TYPE_CHECKING:  # the fast path needs none of the real path's modules
    from simulators.replay_ingest import ThroughIngest

_VALUE = ("detected", "open", "occupied", "leak", "alarm")


def devices_for(mapping: Mapping, home_id: uuid.UUID) -> tuple[list[Device], dict[str, uuid.UUID]]:
    """One detector device per mapped key, with its role and whether it sends heartbeats."""
    ids: dict[str, uuid.UUID] = {}
    devices = []
    for key, sensor in mapping.by_key().items():
        ids[key] = uuid.uuid5(home_id, key)
        devices.append(Device(ids[key], home_id, sensor.type, sensor.room, sensor.role, sensor.event_only))
    return devices, ids


def events_for(rows: Iterable[Row], ids: dict[str, uuid.UUID]) -> list[Event]:
    """Log rows as readings the way ingest stores them (value and payload)."""
    out = []
    for row in rows:
        fields = row.fields
        value: float | None = None
        for name in _VALUE:
            if name in fields:
                value = 1.0 if fields[name] else 0.0
        if "watts" in fields or "celsius" in fields:
            value = float(fields.get("watts", fields.get("celsius", 0.0)))
        if row.sensor.type == "flush_sensor":
            value = 1.0
        out.append(Event(row.at.timestamp(), ids[row.sensor.key], row.sensor.kind, value, dict(fields)))
    return out


def run_rows(mapping: Mapping, rows: list[Row], cfg: DetectorConfig, *, seed: str = "") -> Replayed:
    """Replay parsed rows into a fresh home of their own."""
    home_id = uuid.uuid5(uuid.NAMESPACE_URL, f"telecare-replay/{mapping.home}/{seed or uuid.uuid4()}")
    devices, ids = devices_for(mapping, home_id)
    beats = heartbeats(devices, {k: float(v) for k, v in HEARTBEAT_S.items()})
    return replay(cfg, home_id, mapping.tz, devices, events_for(rows, ids), beats=beats)


def run_log(log: Path, mapping: Mapping, cfg: DetectorConfig, *, fmt: str = "lines") -> Replayed:
    """Replay a log file."""
    return run_rows(mapping, read_rows(log, mapping, fmt=fmt), cfg)


def report(run: Replayed, mapping: Mapping) -> dict[str, Any]:
    """The replay's alerts, for people or as JSON."""
    clock = LocalClock(mapping.tz)

    def local(t: float | None) -> str | None:
        return None if t is None else f"{day_iso(int(clock.local_s(t) // 86400))} {clock.hhmm(t)}"

    alerts = [
        {
            "kind": d.kind,
            "severity": d.severity,
            "raised": local(d.raised_at),
            "title": d.title,
            "explanation": d.explanation,
            "resolution": d.resolution,
            "resolved": local(d.resolved_at),
            "note": d.note,
        }
        for d in run.decisions
    ]
    return {
        "home": mapping.home,
        "timezone": mapping.tz,
        "from": local(run.start),
        "to": local(run.end),
        "readings": run.readings,
        "cannot_judge": run.kit_notes,
        "alerts_by_kind": dict(Counter(d.kind for d in run.decisions)),
        "alerts": alerts,
    }


def through_ingest_report(done: ThroughIngest) -> dict[str, Any]:
    """What the real path did: the home it made, what was published and stored, the alerts written."""
    return {
        "home": done.home_name,
        "published": done.published,
        "stored": done.stored,
        "dead_lettered": done.dead_lettered,
        "alerts_in_database": dict(done.alerts_in_db),
        "seconds": done.seconds,
        "moved_to": f"{done.rows[0].at:%Y-%m-%d} to {done.rows[-1].at:%Y-%m-%d} (UTC)" if done.rows else "",
    }


def render(data: dict[str, Any]) -> str:
    """The report as lines for a terminal."""
    lines = [
        f"{data['home'] or 'replayed home'} ({data['timezone']}): {data['readings']} readings, "
        f"{data['from']} to {data['to']}",
    ]
    real = data.get("through_ingest")
    if real:
        lines.append(
            f"  through broker, ingest and database as {real['home']!r}, moved to {real['moved_to']}: "
            f"{real['published']} published, {real['stored']} stored, {real['dead_lettered']} dead letters, "
            f"{real['seconds']} s"
        )
    lines += [f"  cannot judge / inferred: {note}" for note in data["cannot_judge"]]
    lines.append(f"alerts: {orjson.dumps(data['alerts_by_kind']).decode()}")
    for a in data["alerts"]:
        end = f" -> {a['resolution']} {a['resolved']} ({a['note']})" if a["resolution"] else " (still open)"
        lines.append(f"{a['raised']} {a['severity']} {a['kind']}: {a['explanation']}{end}")
    return "\n".join(lines)
