"""The ingest benchmark (issue 4): `python -m ingest.bench [--quick]`, also run by `make bench`.

It starts its own durable PostgreSQL (fsync on; timescaledb when installed) and Mosquitto in a
temporary folder, registers devices with plain SQL, and measures, each phase after the last:

- publisher: what the lean load generator offers alone (no subscriber);
- ceiling: a bare paho subscriber (QoS 1, auto ack, only counting) on the same stream;
- committed: `telecare ingest` as its own process, N messages published as fast as possible, from
  the first publish to the commit that makes `count(*) FROM readings` reach N; ratio = committed/ceiling;
- latency: a fixed offered load for --duration seconds, plus an alarm every 200 ms on the priority
  path; publish-to-commit per row from the database;
- soak: the same load for --soak seconds, the worker's VmRSS every 5 s; its VmHWM at the end;
- writers: the same 50,000 rows written three ways (see `bench_load.compare_writers`).

Publish-to-commit uses the true commit time (track_commit_timestamp is switched on for this cluster):
`readings.stored_at` defaults to now(), the *start* of the writing transaction, so `stored_at - time`
misses the COPY, the insert and the commit itself; it is reported too, as *_stored_at_ms.
Results go to docs/bench/ingest.json.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import orjson

from devices.dynsec import connect_admin
from devices.schemas import MessageKind
from ingest import bench_load as load
from simulators.load import create_rig_identity
from telecare.embedded import EmbeddedMosquitto, EmbeddedPostgres
from telecare.embedded.mosquitto import ADMIN_USER
from telecare.embedded.process import free_port
from telecare.mqtt import MqttConfig
from telecare.settings import Settings

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "docs" / "bench" / "ingest.json"
TOPIC_ROOT = "telecare"
# The targets: (">=" or "<=", value).
TARGETS = {
    "committed_per_s": (">=", 15000),
    "ratio": (">=", 0.6),
    "p99_commit_ms": ("<=", 500),
    "alarm_p99_ms": ("<=", 250),
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
    """The private servers, the registered devices and the worker process of one run."""

    root: Path
    pg: EmbeddedPostgres
    broker: EmbeddedMosquitto
    args: argparse.Namespace
    devices: tuple[tuple[str, str, MessageKind], ...] = ()
    pendants: tuple[tuple[str, str, MessageKind], ...] = ()
    rig: load.Broker | None = None
    storage: str = ""
    worker: subprocess.Popen[bytes] | None = None
    metrics_port: int = 0
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
    bench.storage, devices = await load.register_devices(bench.pg.dsn(), homes, DEVICE_KINDS, ALARM_DEVICES)
    bench.devices = tuple(d for d in devices if d[2] is not MessageKind.ALARM)
    bench.pendants = tuple(d for d in devices if d[2] is MessageKind.ALARM)
    admin_cfg = MqttConfig(
        "127.0.0.1", bench.broker.port, "bench-admin", ADMIN_USER, bench.broker.admin_password
    )
    async with connect_admin(admin_cfg) as admin:
        user = await create_rig_identity(admin, topic_root=TOPIC_ROOT, password="bench-rig")
    bench.rig = load.Broker("127.0.0.1", bench.broker.port, user, "bench-rig")


def start_worker(bench: Bench) -> None:
    """`telecare ingest` as its own process: exclusive subscription, every other setting at its default."""
    bench.metrics_port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "TELECARE_DATABASE_URL": bench.pg.dsn(),
        "TELECARE_MQTT_URL": bench.broker.url,
        "TELECARE_MQTT_USERNAME": ADMIN_USER,
        "TELECARE_MQTT_PASSWORD": bench.broker.admin_password,
        "TELECARE_MQTT_TOPIC_ROOT": TOPIC_ROOT,
        "TELECARE_MQTT_CLIENT_ID": "bench-ingest",
        "TELECARE_INGEST_SHARED_SUBSCRIPTION": "false",
        "TELECARE_INGEST_METRICS_PORT": str(bench.metrics_port),
    }
    with open(bench.root / "worker.log", "ab") as log:
        bench.worker = subprocess.Popen(
            [sys.executable, "-m", "telecare.cli", "ingest"],
            env=env,
            cwd=bench.root,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )


async def wait_subscribed(bench: Bench) -> None:
    """Until the worker logs that it subscribed."""
    async with asyncio.timeout(60):
        while "subscribed to" not in (bench.root / "worker.log").read_text():
            assert bench.worker is not None and bench.worker.poll() is None, "the worker exited"
            await asyncio.sleep(0.1)


def stop_worker(bench: Bench) -> None:
    """SIGTERM the worker (it disconnects cleanly) and wait for it."""
    proc, bench.worker = bench.worker, None
    if proc is not None and proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
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
    task = asyncio.create_task(bench.publish(bench.plan(total=total), "committed"))
    await asyncio.sleep(0.5)
    polled = await wait_count(conn, base + total, timeout_s=max(300, total / 500))
    report = await task
    # The poll only notices; the N-th commit's own timestamp says when it happened.
    last_commit = (await lags(conn, report.first_publish, report.last_publish))["normal"]["last_commit"]
    bench.results["committed_per_s"] = round(total / (min(polled, last_commit) - report.first_publish))
    bench.results["committed_publisher_per_s"] = round(report.offered_per_s)


async def steady(
    bench: Bench, conn: asyncpg.Connection, seconds: float, rate: float, name: str
) -> dict[str, Any]:
    """`rate` readings/s for `seconds`, with an alarm every 200 ms; wait for all, return the lags."""
    base = await count_readings(conn)
    alarms = load.Plan(
        TOPIC_ROOT, bench.pendants, bench.alarm_seq, duration_s=seconds, rate_per_s=1 / ALARM_INTERVAL_S
    )
    alarm_task = asyncio.create_task(bench.publish(alarms, f"{name}-alarms"))
    report = await bench.publish(bench.plan(duration_s=seconds, rate_per_s=rate), name)
    alarm_report = await alarm_task
    await wait_count(conn, base + report.sent + alarm_report.sent, timeout_s=600)
    start = min(report.first_publish, alarm_report.first_publish)
    result = await lags(conn, start, max(report.last_publish, alarm_report.last_publish))
    result["offered_per_s"] = round(report.offered_per_s)
    return result


async def phase_soak(bench: Bench, conn: asyncpg.Connection, seconds: float, rate: float) -> None:
    """A long steady run while the worker's resident memory is sampled every 5 s."""
    assert bench.worker is not None
    pid = bench.worker.pid
    samples: list[float] = []

    async def sample() -> None:
        while True:
            samples.append(load.proc_status_mb(pid, "VmRSS"))
            await asyncio.sleep(5)

    sampler = asyncio.create_task(sample())
    try:
        soak = await steady(bench, conn, seconds, rate, "soak")
    finally:
        sampler.cancel()
    bench.results["peak_rss_mb"] = load.proc_status_mb(pid, "VmHWM")
    bench.results["rss_mb_samples"] = samples
    bench.results["rss_mb"] = {"first": samples[0], "last": samples[-1], "max": max(samples)}
    bench.results["soak"] = {"seconds": seconds, "p99_commit_ms": soak["normal"]["p99_ms"], **soak}


async def run_phases(bench: Bench) -> None:
    """Every phase, in order, against the started servers."""
    args, res = bench.args, bench.results
    await prepare(bench, args.homes)
    receive_maximum = Settings(_env_file=None).mqtt_receive_maximum
    await phase_publisher_alone(bench, args.messages)
    await phase_ceiling(bench, args.messages, receive_maximum)
    conn = await asyncpg.connect(bench.pg.dsn())
    try:
        start_worker(bench)
        await wait_subscribed(bench)
        await phase_committed(bench, conn, args.messages)
        latency = await steady(bench, conn, args.duration, args.rate, "latency")
        res["offered_per_s"] = latency.pop("offered_per_s")
        res["p50_commit_ms"] = latency["normal"]["p50_ms"]
        res["p99_commit_ms"] = latency["normal"]["p99_ms"]
        res["alarm_p99_ms"] = latency["alarm"]["p99_ms"]
        res["latency"] = latency
        await phase_soak(bench, conn, args.soak, args.rate)
        res["worker_metrics"] = await load.worker_metrics(bench.metrics_port)
        stop_worker(bench)
        res["writers"] = await load.compare_writers(bench.pg.dsn(), bench.devices, rows=args.writer_rows)
    finally:
        await conn.close()


def summarise(bench: Bench, started: float) -> dict[str, Any]:
    """The JSON document: headline figures first, then the machine, targets and details."""
    res, args = bench.results, bench.args
    res["ratio"] = round(res["committed_per_s"] / res["ceiling_per_s"], 3)
    met = {k: res[k] >= v if op == ">=" else res[k] <= v for k, (op, v) in TARGETS.items()}
    head = ["committed_per_s", "ceiling_per_s", "ratio", "p50_commit_ms", "p99_commit_ms", "alarm_p99_ms"]
    return {
        **{k: res[k] for k in head},
        "peak_rss_mb": res["peak_rss_mb"],
        "machine": load.machine_info(bench.pg.dsn(), bench.storage),
        "targets": {k: f"{op} {v}" for k, (op, v) in TARGETS.items()},
        "met": met,
        "all_met": all(met.values()),
        "mode": "quick" if args.quick else "full",
        "offered_per_s": res["offered_per_s"],
        "duration_s": args.duration,
        "messages": args.messages,
        "devices": len(bench.devices),
        "latency_source": "pg_xact_commit_timestamp(xmin) - time;"
        " *_stored_at_ms: stored_at (the transaction's start) - time",
        **{k: v for k, v in res.items() if k not in head and k != "peak_rss_mb" and k != "offered_per_s"},
        "bench_seconds": round(time.monotonic() - started, 1),
    }


def print_summary(doc: dict[str, Any], path: Path) -> None:
    """A few lines for people."""
    machine, rss = doc["machine"], doc["rss_mb"]

    def line(label: str, key: str, value: str) -> str:
        op, target = TARGETS[key]
        return f"  {label:<12}{value:<44} target {op} {target}  {'ok' if doc['met'][key] else 'MISSED'}"

    lines = [
        f"ingest bench ({doc['mode']}, {machine['cores']} cores, {machine['storage']}, durable):",
        line("committed", "committed_per_s", f"{doc['committed_per_s']} readings/s"),
        f"  {'ceiling':<12}{doc['ceiling_per_s']} msg/s (bare paho subscriber);"
        f" publisher alone {doc['publisher_max_per_s']} msg/s",
        line("ratio", "ratio", str(doc["ratio"])),
        line(
            "latency",
            "p99_commit_ms",
            f"p50 {doc['p50_commit_ms']} / p99 {doc['p99_commit_ms']} ms at {doc['offered_per_s']}/s",
        ),
        line("alarm", "alarm_p99_ms", f"p99 {doc['alarm_p99_ms']} ms"),
        f"  {'worker RSS':<12}peak {doc['peak_rss_mb']} MB; soak first/last/max"
        f" {rss['first']}/{rss['last']}/{rss['max']} MB",
        f"  {'writers':<12}" + ", ".join(f"{k} {v['rows_per_s']}/s" for k, v in doc["writers"].items()),
        f"  took {doc['bench_seconds']} s; written to {path}",
    ]
    print("\n".join(lines))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options (full mode unless --quick)."""
    p = argparse.ArgumentParser(prog="python -m ingest.bench", description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="short phases (the whole bench in < 2 minutes)")
    p.add_argument("--duration", type=float, help="latency phase seconds (default 60; quick 10)")
    p.add_argument("--soak", type=float, help="memory soak seconds (default 300; quick 20)")
    p.add_argument(
        "--messages", type=int, help="messages for ceiling and committed (default 300000; quick 60000)"
    )
    p.add_argument("--rate", type=float, default=10000, help="offered readings/s in latency and soak")
    p.add_argument("--homes", type=int, default=500, help="homes, with 4 devices each")
    p.add_argument("--writer-rows", type=int, default=50000)
    p.add_argument("--out", type=Path, default=OUT)
    p.add_argument("--keep", action="store_true", help="keep the temporary folder (logs, data)")
    args = p.parse_args(argv)
    quick = args.quick
    args.duration = args.duration or (10.0 if quick else 60.0)
    args.soak = args.soak or (20.0 if quick else 300.0)
    args.messages = args.messages or (60000 if quick else 300000)
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; servers and the worker are stopped whatever happens."""
    args = parse_args(argv)
    started = time.monotonic()
    root = Path(tempfile.mkdtemp(prefix="telecare-bench-"))
    os.chmod(root, 0o755)  # the servers run as postgres / mosquitto when we are root
    # Durable: fsync and synchronous commit on; timescaledb preloaded when it is installed.
    pg = EmbeddedPostgres(root / "pg", free_port(), fast_unsafe=False)
    broker = EmbeddedMosquitto(root / "mqtt", free_port())
    bench = Bench(root, pg, broker, args)
    try:
        load.start_servers(pg, broker)
        asyncio.run(run_phases(bench))
        doc = summarise(bench, started)
    finally:
        stop_worker(bench)
        broker.stop()
        pg.stop()
        if args.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2) + b"\n")
    print_summary(doc, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
