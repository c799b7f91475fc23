"""The clean replay of every real home through the real path (Mosquitto, ingest, PostgreSQL, the detector
service) on one virtual clock, beside the fast path on the same log: the evidence that the fast path
(anomaly/virtual.py), on which the rest of the evaluation runs, decides what the real path decides.

The servers are embedded ones of the evaluation's own, in a temporary folder (kernel/embedded/scratch.py,
as `telecare replay --through-ingest` starts them); each home is a home of its own in one database.
"""

from __future__ import annotations

import os
import time
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from anomaly.config import DetectorConfig
from anomaly.virtual import Replayed
from bench.evaluation.evaluation import AlertRecord, HomeRun
from bench.evaluation.scoring import summarise
from bench.realhomes import homes
from bench.realhomes.inject import KINDS, Log, inject
from kernel.embedded.scratch import scratch_servers
from kernel.settings import Settings, StorageMode
from simulators.replay import Mapping, Row, read_rows
from simulators.replay_ingest import ThroughIngest, decisions_compared, replay_through_ingest
from simulators.replay_run import run_rows

LEARN_DAYS = 7


def _scored(name: str, tz: str, run: Replayed) -> HomeRun:
    alerts = [
        AlertRecord(name, d.kind, d.key, d.raised_at, d.triggered_at, d.evidence, d.resolution, d.resolved_at)
        for d in run.decisions
    ]
    return HomeRun(name, "real", tz, alerts, [], run.start, run.end, run.readings)


def _false_alarms(name: str, tz: str, run: Replayed) -> float | None:
    figures = summarise([_scored(name, tz, run)], LEARN_DAYS)
    value = figures["kinds"]["learned_total"]["false_alarms_per_home_week"]
    return None if value is None else float(value)


def _names(fast: Replayed, done: ThroughIngest) -> dict[str, str]:
    """Device ids of both paths to the mapping's device keys (alert keys name devices)."""
    names = {str(ident): key for ident, key in done.device_keys.items()}
    names |= {str(uuid.uuid5(fast.home_id, key)): key for key in done.device_keys.values()}
    return names


def injected(home: homes.RealHome, folder: Path, mapping: Mapping, rows: list[Row]) -> tuple[list[Row], int]:
    """The clean log with one incident every third day after the first week, the kinds in turn (as the
    evaluation injects them); returns the rows and how many incidents went in."""
    log = Log(home.name, mapping, list(rows), homes.labels(home, folder))
    zone = ZoneInfo(mapping.tz)
    first, last = rows[0].at.astimezone(zone).date(), rows[-1].at.astimezone(zone).date()
    days = [first + timedelta(days=i) for i in range(LEARN_DAYS + 1, (last - first).days, 3)]
    labels = inject(log, days, [KINDS[i % len(KINDS)] for i in range(len(days))], seed=0)
    return log.rows, len(labels)


async def compare(settings: Settings, name: str, mapping: Mapping, rows: list[Row]) -> dict[str, Any]:
    """One log through the real path and the fast path; what each decided, and whether it is the same."""
    done = await replay_through_ingest(settings, mapping, rows, DetectorConfig(), stem=name)
    started = time.monotonic()
    fast = run_rows(mapping, done.rows, DetectorConfig(), seed=name)
    fast_s = time.monotonic() - started
    differences = decisions_compared(fast, done.run, names=_names(fast, done))
    return {
        "days": round((done.run.end - done.run.start) / 86400, 1),
        "published": done.published,
        "stored": done.stored,
        "dead_lettered": done.dead_lettered,
        "seconds_through_ingest": done.seconds,
        "seconds_fast_path": round(fast_s, 1),
        "alerts_through_ingest": dict(sorted(Counter(d.kind for d in done.run.decisions).items())),
        "alerts_in_database": dict(sorted(done.alerts_in_db.items())),
        "alerts_fast_path": dict(sorted(Counter(d.kind for d in fast.decisions).items())),
        "false_alarms_per_home_week_through_ingest": _false_alarms(name, mapping.tz, done.run),
        "false_alarms_per_home_week_fast_path": _false_alarms(name, mapping.tz, fast),
        "same_decisions": not differences,
        "differences": differences[:20],
    }


async def compare_home(
    settings: Settings, home: homes.RealHome, folder: Path, *, with_incidents: bool = False
) -> dict[str, Any]:
    """One home's clean log (and, if asked, the log with incidents) through both paths."""
    mapping = homes.mapping(home, folder)
    rows = read_rows(folder / f"{home.name}.sensors", mapping, fmt="tl")
    out = await compare(settings, home.name, mapping, rows)
    if with_incidents:
        changed, count = injected(home, folder, mapping, rows)
        out["with_incidents"] = {"incidents": count, **await compare(settings, home.name, mapping, changed)}
    return out


async def compare_all(folder: Path, *, with_incidents: bool = False) -> dict[str, Any]:
    """Every home's clean replay (and one with incidents, if asked) through both paths, on servers of
    the evaluation's own."""
    per_home: dict[str, Any] = {}
    load = _load()
    with scratch_servers() as stack:
        settings = stack.settings(Settings(_env_file=None, storage=StorageMode.POSTGRES))
        for home in homes.HOMES:
            per_home[home.name] = await compare_home(settings, home, folder, with_incidents=with_incidents)
    runs = [*per_home.values(), *(h["with_incidents"] for h in per_home.values() if "with_incidents" in h)]
    return {
        "how": HOW,
        "load_before": load,
        "homes": per_home,
        "same_decisions_in_every_home": all(r["same_decisions"] for r in runs),
        "seconds_through_ingest": round(sum(r["seconds_through_ingest"] for r in runs), 1),
        "seconds_fast_path": round(sum(r["seconds_fast_path"] for r in runs), 1),
    }


def _load() -> str:
    """The 1, 5 and 15 minute load averages (the machine is shared)."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


HOW = (
    "each home's clean log, moved by whole weeks to end now (local times kept), published sensor by sensor "
    "with its own credentials through embedded Mosquitto (MQTT v5, QoS 1) to the ingest worker, committed "
    "to embedded PostgreSQL and judged by the detector service reading the committed rows, all on one "
    "virtual clock ticked every minute once the readings before the tick were committed "
    "(simulators/replay_ingest.py); the fast path (anomaly/virtual.py) replays the same moved log, and "
    "the two lists of alerts are compared: same kind, condition, triggering event and ending, raised "
    "within one tick"
)
BEGIN, END = (
    "<!-- real-homes-through-ingest: written by python -m bench.realhomes -->",
    "<!-- /through-ingest -->",
)


def markdown(summary: dict[str, Any]) -> str:
    """The section of detection.md that shows the fast path and the real path decide the same."""
    lines = [BEGIN, "### Real homes through the broker, ingest and database", "", MD_TEXT, ""]
    lines.append(
        "| home | days | readings published / stored | alerts through ingest | fast path | same | "
        "seconds through ingest / fast path |"
    )
    lines.append("|---|---:|---:|---|---|---|---:|")
    for name, h in summary["homes"].items():
        lines.append(_row(name, h))
        if "with_incidents" in h:
            lines.append(
                _row(f"{name}, {h['with_incidents']['incidents']} incidents injected", h["with_incidents"])
            )
    lines += ["", f"Load average before the run: {summary['load_before']} (a shared two-core machine).", END]
    return "\n".join(lines)


def _row(name: str, h: dict[str, Any]) -> str:
    alerts = ", ".join(f"{k} {n}" for k, n in h["alerts_through_ingest"].items()) or "none"
    fast = ", ".join(f"{k} {n}" for k, n in h["alerts_fast_path"].items()) or "none"
    same = "yes" if h["same_decisions"] else f"no ({len(h['differences'])} differences)"
    return (
        f"| {name} | {h['days']} | {h['published']} / {h['stored']} | {alerts} | {fast} | {same} | "
        f"{h['seconds_through_ingest']:.0f} / {h['seconds_fast_path']:.1f} |"
    )


def write_section(summary: dict[str, Any], md: Path) -> None:
    """Put the section into detection.md (replaced, or appended)."""
    text = md.read_text() if md.exists() else ""
    section = markdown(summary)
    if BEGIN in text and END in text:
        head, _, rest = text.partition(BEGIN)
        _, _, tail = rest.partition(END)
        text = head + section + tail
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    md.write_text(text)


MD_TEXT = """Each home's clean log is also replayed through the real path, as a provider's own log is by
`telecare replay --through-ingest`: every sensor publishes with its own credentials through Mosquitto
(MQTT v5, QoS 1) to the ingest worker, which commits to PostgreSQL, and the detector service judges the
committed rows; ingest's arrival times, the heartbeat check and the detector share one virtual clock that
moves a minute at a time once every reading before it is committed, so a silence is seen when it would
have been live. The log is moved by whole weeks to end now, local times and weekdays kept (retention
drops whole days of all homes, so an old log would otherwise be deleted). The fast path replays the same
moved log; the alerts are compared one by one (kind, condition, triggering event, ending; raised within
the one-minute tick, since through ingest a reading is judged at the tick after it). Where every home
says "yes", the fast path on which the figures above are computed decides what the real path decides.
Only the clean replays go through ingest: they take the seconds shown (two to six minutes a home on a
busy two-core machine, against a few seconds on the fast path), and the 32 replays of the whole
evaluation would take eight times as long. `python -m bench.realhomes --through-ingest incidents` also
sends one log per home with incidents injected (one every third day after the first week) both ways."""
