"""The ingest benchmark's run: its servers, devices and workers, and each phase (see bench.ingest)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg

from bench.ingest import alarm, db, load
from devices.contract import MessageKind
from devices.dynsec import connect_admin
from kernel.embedded import EmbeddedMosquitto, EmbeddedPostgres
from kernel.embedded.mosquitto import ADMIN_USER
from kernel.embedded.process import free_port
from kernel.mqtt import MqttConfig
from simulators.load import create_rig_identity

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "docs" / "bench" / "ingest.json"
TOPIC_ROOT = "telecare"
# The issues' targets (4 and 11): (">=" or "<=", value).
TARGETS = {
    "committed_per_s": (">=", 15000),
    "ratio": (">=", 0.6),
    "p99_commit_ms": ("<=", 500),
    "alarm_p99_ms": ("<=", 250),
    "saturated_alarm_p99_ms": ("<=", 500),
}
DEVICE_KINDS = {
    "motion_sensor": MessageKind.MOTION,
    "door_contact": MessageKind.CONTACT,
    "temperature_sensor": MessageKind.TEMPERATURE,
    "smart_plug": MessageKind.POWER,
}
ALARM_DEVICES = 4
ALARM_INTERVAL_S = 0.2


@dataclass
class Bench:
    """The private servers, the registered devices and the worker processes of one run."""

    root: Path
    pg: EmbeddedPostgres
    broker: EmbeddedMosquitto
    args: argparse.Namespace
    devices: tuple[tuple[str, str, MessageKind], ...] = ()
    pendants: tuple[tuple[str, str, MessageKind], ...] = ()
    rig: load.Broker | None = None
    storage: str = ""
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    metrics_ports: list[int] = field(default_factory=list)
    seq: int = 1
    alarm_seq: int = 1
    results: dict[str, Any] = field(default_factory=dict)

    @property
    def backend(self) -> load.Broker:
        """The backend's own broker identity (what the worker and the ceiling subscriber use)."""
        return load.Broker("127.0.0.1", self.broker.port, ADMIN_USER, self.broker.admin_password)

    def plan(self, **kwargs: Any) -> load.Plan:
        """A load plan over the benchmark devices, continuing their sequence numbers."""
        return load.Plan(TOPIC_ROOT, self.devices, self.seq, **kwargs)

    async def publish(self, plan: load.Plan, name: str) -> load.Report:
        """Run one publisher process to its end; its seq numbers are used up afterwards."""
        child = load.start_publisher(self.rig or self.backend, plan, f"bench-{name}-{uuid.uuid4().hex[:6]}")
        try:
            timeout = (plan.duration_s or 0) + plan.ack_timeout_s + 600
            report: load.Report = await asyncio.to_thread(child.receive, timeout)
        finally:
            child.stop()
        if report.error or report.refused:
            raise RuntimeError(f"publisher {name}: {report.error or f'{report.refused} refused'}")
        if plan.devices is self.pendants:
            self.alarm_seq = load.seqs_used(plan, report.sent)
        else:
            self.seq = load.seqs_used(plan, report.sent)
        return report


# --- set-up ---


async def prepare(bench: Bench, homes: int) -> None:
    """Migrate and register devices (plain SQL), and create the load rig's broker identity."""
    bench.storage, devices = await db.register_devices(bench.pg.dsn(), homes, DEVICE_KINDS, ALARM_DEVICES)
    bench.devices = tuple(d for d in devices if d[2] is not MessageKind.ALARM)
    bench.pendants = tuple(d for d in devices if d[2] is MessageKind.ALARM)
    admin_cfg = MqttConfig(
        "127.0.0.1", bench.broker.port, "bench-admin", ADMIN_USER, bench.broker.admin_password
    )
    async with connect_admin(admin_cfg) as admin:
        user = await create_rig_identity(admin, topic_root=TOPIC_ROOT, password="bench-rig")
    bench.rig = load.Broker("127.0.0.1", bench.broker.port, user, "bench-rig")


def start_workers(bench: Bench, count: int) -> None:
    """`telecare ingest` as its own process(es), every setting at its default but the subscription:
    one worker has its own, several share one (TELECARE_INGEST_SHARED_SUBSCRIPTION)."""
    for n in range(count):
        port = free_port()
        env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "TELECARE_DATABASE_URL": bench.pg.dsn(),
            "TELECARE_MQTT_URL": bench.broker.url,
            "TELECARE_MQTT_USERNAME": ADMIN_USER,
            "TELECARE_MQTT_PASSWORD": bench.broker.admin_password,
            "TELECARE_MQTT_TOPIC_ROOT": TOPIC_ROOT,
            "TELECARE_MQTT_CLIENT_ID": f"bench-ingest-{n}",
            "TELECARE_INGEST_SHARED_SUBSCRIPTION": "true" if count > 1 else "false",
            "TELECARE_INGEST_METRICS_PORT": str(port),
        }
        with open(bench.root / f"worker-{n}.log", "ab") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "telecare.cli", "ingest"],
                env=env,
                cwd=bench.root,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        bench.workers.append(proc)
        bench.metrics_ports.append(port)


async def wait_subscribed(bench: Bench) -> None:
    """Until every worker logs that it subscribed, and its priority lane that it listens."""
    async with asyncio.timeout(120):
        for n, proc in enumerate(bench.workers):
            log = bench.root / f"worker-{n}.log"
            while not all(line in log.read_text() for line in ("subscribed to", "priority lane listening")):
                assert proc.poll() is None, f"worker {n} exited"
                await asyncio.sleep(0.1)


def stop_workers(bench: Bench) -> None:
    """SIGTERM the workers (they disconnect cleanly) and wait for them."""
    procs, bench.workers = bench.workers, []
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --- measuring ---


async def count_readings(conn: asyncpg.Connection) -> int:
    """All readings stored so far."""
    return int(await conn.fetchval("SELECT count(*) FROM readings"))


async def wait_count(conn: asyncpg.Connection, at_least: int, timeout_s: float) -> float:
    """Poll until `count(*)` reaches at_least; returns the wall time of the poll that saw it."""
    deadline = time.monotonic() + timeout_s
    while True:
        polled = time.time()
        n = await count_readings(conn)
        if n >= at_least:
            return polled
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {n} of {at_least} readings committed in {timeout_s:.0f} s")
        await asyncio.sleep(0.5)  # the exact end comes from commit timestamps; polls cost the database


LAG_SQL = """
SELECT kind = 'alarm' AS alarm, count(*) AS n,
       percentile_cont(ARRAY[0.5, 0.99]) WITHIN GROUP (ORDER BY commit_at - time) AS commit_lag,
       percentile_cont(ARRAY[0.5, 0.99]) WITHIN GROUP (ORDER BY stored_at - time) AS stored_lag,
       max(commit_at) AS last_commit
FROM (SELECT *, pg_xact_commit_timestamp(xmin) AS commit_at FROM readings
      WHERE time >= to_timestamp($1) AND time <= to_timestamp($2)) r
GROUP BY 1
"""


def _ms(value: timedelta) -> float:
    return round(value.total_seconds() * 1000, 1)


async def lags(conn: asyncpg.Connection, start: float, end: float) -> dict[str, Any]:
    """Publish-to-commit percentiles of rows published in [start, end], normal and alarm apart."""
    out: dict[str, Any] = {}
    for r in await conn.fetch(LAG_SQL, start, end):
        key = "alarm" if r["alarm"] else "normal"
        out[key] = {
            "n": r["n"],
            "p50_ms": _ms(r["commit_lag"][0]),
            "p99_ms": _ms(r["commit_lag"][1]),
            "p50_stored_at_ms": _ms(r["stored_lag"][0]),
            "p99_stored_at_ms": _ms(r["stored_lag"][1]),
            "last_commit": r["last_commit"].timestamp(),
        }
    return out


async def phase_publisher_alone(bench: Bench, total: int) -> None:
    """The load generator with nobody subscribed: what it can offer."""
    report = await bench.publish(bench.plan(total=total), "alone")
    bench.results["publisher_max_per_s"] = round(report.offered_per_s)


async def phase_ceiling(bench: Bench, total: int, receive_maximum: int) -> None:
    """A bare subscriber's sustained rate over `total` messages published as fast as possible."""
    topic = f"{TOPIC_ROOT}/v1/+/+/+"
    sub = load.start_subscriber(
        bench.backend, topic, expected=total, timeout_s=600, receive_maximum=receive_maximum
    )
    try:
        assert await asyncio.to_thread(sub.receive, 30) == "ready"
        report = await bench.publish(bench.plan(total=total), "ceiling")
        got = await asyncio.to_thread(sub.receive, 600)
    finally:
        sub.stop()
    if got["n"] < total:
        raise RuntimeError(f"ceiling subscriber got {got['n']} of {total}")
    bench.results["ceiling_per_s"] = round(total / (got["last"] - report.first_publish))
    bench.results["ceiling_publisher_per_s"] = round(report.offered_per_s)


async def phase_committed(bench: Bench, conn: asyncpg.Connection, total: int) -> None:
    """N messages as fast as possible through the worker, first publish to the N-th commit."""
    base = await count_readings(conn)
    pids = [w.pid for w in bench.workers]
    cpu_before = alarm.cpu_by_part(pids)
    task = asyncio.create_task(bench.publish(bench.plan(total=total), "committed"))
    await asyncio.sleep(0.5)
    polled = await wait_count(conn, base + total, timeout_s=max(300, total / 500))
    report = await task
    # The poll only notices; the N-th commit's own timestamp says when it happened.
    last_commit = (await lags(conn, report.first_publish, report.last_publish))["normal"]["last_commit"]
    bench.results["committed_per_s"] = round(total / (min(polled, last_commit) - report.first_publish))
    bench.results["committed_publisher_per_s"] = round(report.offered_per_s)
    bench.results["committed_cpu"] = alarm.cpu_delta(cpu_before, alarm.cpu_by_part(pids), total)


async def steady(
    bench: Bench, conn: asyncpg.Connection, seconds: float, rate: float, name: str, *, hogs: int = 0
) -> dict[str, Any]:
    """`rate` readings/s for `seconds`, with an alarm every 200 ms (and `hogs` CPU-bound processes
    while publishing); wait for all, return the lags, the load average and the workers' CPU."""
    base = await count_readings(conn)
    pids = [w.pid for w in bench.workers]
    alarms = load.Plan(
        TOPIC_ROOT, bench.pendants, bench.alarm_seq, duration_s=seconds, rate_per_s=1 / ALARM_INTERVAL_S
    )
    result: dict[str, Any] = {"cpu_hogs": hogs}
    cpu_before = alarm.cpu_by_part(pids)
    busy = alarm.cpu_hogs(hogs, seconds + 30) if hogs else contextlib.nullcontext()
    async with alarm.load_sampled(result):
        with busy:
            alarm_task = asyncio.create_task(bench.publish(alarms, f"{name}-alarms"))
            report = await bench.publish(bench.plan(duration_s=seconds, rate_per_s=rate), name)
            alarm_report = await alarm_task
    await wait_count(conn, base + report.sent + alarm_report.sent, timeout_s=600)
    sent = report.sent + alarm_report.sent
    result |= alarm.cpu_delta(cpu_before, alarm.cpu_by_part(pids), sent)
    start = min(report.first_publish, alarm_report.first_publish)
    result |= await lags(conn, start, max(report.last_publish, alarm_report.last_publish))
    result["offered_per_s"] = round(report.offered_per_s)
    return result


async def phase_soak(bench: Bench, conn: asyncpg.Connection, seconds: float, rate: float) -> None:
    """A long steady run while the workers' resident memory (summed) is sampled every 5 s."""
    pids = [proc.pid for proc in bench.workers]
    samples: list[float] = []

    async def sample() -> None:
        while True:
            samples.append(round(sum(db.proc_status_mb(pid, "VmRSS") for pid in pids), 1))
            await asyncio.sleep(5)

    sampler = asyncio.create_task(sample())
    try:
        soak = await steady(bench, conn, seconds, rate, "soak")
    finally:
        sampler.cancel()
    bench.results["peak_rss_mb"] = max(db.proc_status_mb(pid, "VmHWM") for pid in pids)
    bench.results["rss_mb_samples"] = samples
    bench.results["rss_mb"] = {"first": samples[0], "last": samples[-1], "max": max(samples)}
    bench.results["soak"] = {"seconds": seconds, "p99_commit_ms": soak["normal"]["p99_ms"], **soak}
