"""The fleet benchmark's phases: the ceiling, the fleet's load with the detector, the reconnect storm."""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing as mp
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg

from bench.fleet.load import FleetPlan, FleetReport, start_fleet_publisher
from bench.fleet.storm import start_storm, storm_capacity
from bench.ingest import alarm, db, load
from bench.ingest.phases import TOPIC_ROOT, Bench, lags

CTX = mp.get_context("spawn")
# Each phase's seqs start above the last one's (a device's seq is never reused).
SEQ_STEP = 10_000_000


async def publish(bench: Bench, plan: FleetPlan, name: str) -> FleetReport:
    """One fleet publisher process to its end."""
    child = start_fleet_publisher(bench.rig or bench.backend, plan, f"fleet-{name}-{uuid.uuid4().hex[:6]}")
    try:
        report: FleetReport = await asyncio.to_thread(child.receive, plan.duration_s + 900)
    finally:
        child.stop()
    if report.error:
        raise RuntimeError(f"fleet publisher {name}: {report.error}")
    return report


def plan(bench: Bench, phase: int, **kwargs: Any) -> FleetPlan:
    """A fleet plan for this run's homes, with its own range of seqs."""
    args = bench.args
    fields: dict[str, Any] = {"readings_per_s": args.rate, "duration_s": args.duration, **kwargs}
    return FleetPlan(TOPIC_ROOT, args.homes, first_seq=1 + phase * SEQ_STEP, **fields)


async def phase_ceiling(bench: Bench, seconds: float, receive_maximum: int) -> dict[str, Any]:
    """A bare paho subscriber on the fleet's stream published as fast as acknowledged (no worker)."""
    child = load.start_subscriber(
        bench.backend,
        f"{TOPIC_ROOT}/v1/+/+/+",
        expected=1 << 40,
        timeout_s=seconds + 5,
        receive_maximum=receive_maximum,
    )
    try:
        assert await asyncio.to_thread(child.receive, 60) == "ready"
        report = await publish(bench, plan(bench, 0, duration_s=seconds, fast=True), "ceiling")
        counts = await asyncio.to_thread(child.receive, seconds + 120)
    finally:
        child.stop()
    per_message = report.readings / max(report.messages, 1)
    received_per_s = counts["n"] / max(counts["last"] - counts["first"], 1e-9)
    return {
        "messages_per_s": round(received_per_s),
        "readings_per_s": round(received_per_s * per_message),
        "publisher_readings_per_s": round(
            report.readings / max(report.last_publish - report.first_publish, 1e-9)
        ),
        "readings_per_message": round(per_message, 2),
        "seconds": seconds,
    }


@contextlib.asynccontextmanager
async def sampled(bench: Bench, detector_pid: int | None, into: dict[str, Any]) -> AsyncIterator[None]:
    """The load average and the worker's (and its lane's) and the detector's RSS every 5 s."""
    samples: list[dict[str, float]] = []
    into["load_average_before"] = alarm.load_average()

    def rss(pid: int) -> float:
        try:
            return db.proc_status_mb(pid, "VmRSS")
        except (OSError, KeyError):
            return 0.0

    async def sample() -> None:
        while True:
            pids = [w.pid for w in bench.workers]
            lanes = [c for pid in pids for c in alarm.children(pid)]
            samples.append(
                {
                    "load_1min": alarm.load_average()[0],
                    "worker_mb": sum(rss(p) for p in pids),
                    "lane_mb": sum(rss(p) for p in lanes),
                    "detector_mb": rss(detector_pid) if detector_pid else 0.0,
                }
            )
            await asyncio.sleep(5)

    task = asyncio.create_task(sample())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        into["load_average_after"] = alarm.load_average()
        if samples:
            into["load_average_during_max_1min"] = max(s["load_1min"] for s in samples)
            for key in ("worker_mb", "lane_mb", "detector_mb"):
                into[f"{key.removesuffix('_mb')}_rss_mb"] = {
                    "first": samples[0][key],
                    "last": samples[-1][key],
                    "max": max(s[key] for s in samples),
                }


COMMITTED_SQL = """
SELECT count(*) FILTER (WHERE pg_xact_commit_timestamp(xmin) <= to_timestamp($2)) AS in_window,
       count(*) AS total, max(pg_xact_commit_timestamp(xmin)) AS last_commit
FROM readings WHERE time >= to_timestamp($1) AND time <= to_timestamp($2)
"""


async def wait_drained(conn: asyncpg.Connection, expected: int, since: float, timeout_s: float) -> int:
    """Until the readings stamped since `since` reach `expected` (or stop growing); their count."""
    deadline, last, still = time.monotonic() + timeout_s, -1, 0
    while time.monotonic() < deadline:
        n = int(await conn.fetchval("SELECT count(*) FROM readings WHERE time >= to_timestamp($1)", since))
        if n >= expected:
            return n
        still = still + 1 if n == last else 0
        if still >= 10:  # nothing new for 10 s: what was lost stays lost
            return n
        last = n
        await asyncio.sleep(1.0)
    return last


async def phase_fleet(bench: Bench, conn: asyncpg.Connection, detector_pid: int | None) -> dict[str, Any]:
    """The fleet's load for the run's duration at the run's rate; what was committed and how fast."""
    out: dict[str, Any] = {"offered_readings_per_s": bench.args.rate, "seconds": bench.args.duration}
    async with sampled(bench, detector_pid, out):
        report = await publish(bench, plan(bench, 1), "fleet")
        first, last = report.first_publish, report.last_publish
        stored = await wait_drained(conn, report.readings, first - 1, 300)
    window = await conn.fetchrow(COMMITTED_SQL, first, last)
    out |= {
        "published_messages": report.messages,
        "published_readings": report.readings,
        "published_alarms": report.alarms,
        "publisher_retries": report.retries,
        "offered_actual_readings_per_s": round(report.readings / max(last - first, 1e-9)),
        "stored_readings": stored,
        "committed_per_s": round(int(window["in_window"]) / max(last - first, 1e-9)),
        "drained_s_after_last_publish": round(window["last_commit"].timestamp() - last, 1)
        if window["last_commit"] is not None
        else None,
        "latency": await lags(conn, first, last),
    }
    return out


async def phase_storm(bench: Bench, conn: asyncpg.Connection, detector_pid: int | None) -> dict[str, Any]:
    """Every hub reconnecting within `storm_within` seconds, with alarms every 200 ms on the side."""
    args = bench.args
    hubs = storm_capacity(args.storm)
    out: dict[str, Any] = {"requested_hubs": args.storm, "hubs": hubs, "within_s": args.storm_within}
    stop = CTX.Event()
    before = int(await conn.fetchval("SELECT count(*) FROM readings WHERE kind = 'presence'"))
    async with sampled(bench, detector_pid, out):
        children = start_storm(
            bench.rig or bench.backend, TOPIC_ROOT, hubs=hubs, within_s=args.storm_within, stop=stop
        )
        alarms = plan(
            bench, 2, readings_per_s=args.rate / 20, duration_s=args.storm_within + 15, heartbeat_s=1e9
        )
        try:
            report = await publish(bench, alarms, "storm-alarms")
            stop.set()
            parts = [await asyncio.to_thread(c.receive, 120) for c in children]
        finally:
            stop.set()
            for child in children:
                child.stop()
    errors = [p["error"] for p in parts if "error" in p]
    if errors:
        raise RuntimeError(f"storm: {errors}")
    await asyncio.sleep(3)
    stored = int(await conn.fetchval("SELECT count(*) FROM readings WHERE kind = 'presence'")) - before
    out |= {
        "connected": sum(p["connected"]["n"] for p in parts),
        "failed": sum(p["failed"] for p in parts),
        "errors": [p["errors"] for p in parts if p["errors"]],
        "connect_s": [p["connected"] for p in parts],
        "announced_s": [p["announced"] for p in parts],
        "presence_readings_stored": stored,
        "latency": await lags(conn, report.first_publish, report.last_publish),
    }
    return out
