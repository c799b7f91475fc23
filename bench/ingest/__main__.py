"""The ingest benchmark (issue 4): `python -m bench.ingest [--quick] [--workers N]`, also run by `make bench`.

It starts its own durable PostgreSQL (fsync on; timescaledb when installed) and Mosquitto in a
temporary folder, registers devices with plain SQL, and measures, each phase after the last:

- publisher: what the lean load generator offers alone (no subscriber);
- ceiling: a bare paho subscriber (QoS 1, auto ack, only counting) on the same stream;
- committed: `telecare ingest` as its own process (or N of them on a shared subscription), N messages
  published as fast as possible, from the first publish to the commit that makes `count(*) FROM
  readings` reach N; ratio = committed/ceiling;
- latency: a fixed offered load for --duration seconds, plus an alarm every 200 ms on the priority
  path; publish-to-commit per row from the database;
- saturated: the same for --saturated seconds while two CPU-bound processes also run (issue 11: an
  alarm must be stored in time however busy the machine is), with the load average before and during;
- soak: the same load for --soak seconds, the workers' VmRSS every 5 s; their VmHWM at the end;
- writers: the same 50,000 rows written four ways (see `db.compare_writers`);
- plain PostgreSQL: when the run above was on TimescaleDB, latency and saturated again (shorter) on a
  fresh plain-PostgreSQL cluster (--no-plain-postgres skips it).

Publish-to-commit uses the true commit time (track_commit_timestamp is switched on for this cluster):
`readings.stored_at` defaults to now(), the *start* of the writing transaction, so `stored_at - time`
misses the insert and the commit itself; it is reported too, as *_stored_at_ms.
Results go to docs/bench/ingest.json. The modules: phases (the run), load (publisher and
subscriber processes), db (servers, devices, writers, machine).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import orjson

from bench.ingest import alarm, db, report
from bench.ingest.phases import (
    OUT,
    REPO,
    TARGETS,
    Bench,
    phase_ceiling,
    phase_committed,
    phase_publisher_alone,
    phase_soak,
    prepare,
    start_workers,
    steady,
    stop_workers,
    wait_subscribed,
)
from kernel.embedded import EmbeddedMosquitto, EmbeddedPostgres
from kernel.embedded.process import free_port
from kernel.settings import Settings

SCALING = REPO / "docs" / "scaling.md"


async def run_phases(bench: Bench) -> None:
    """Every phase, in order, against the started servers."""
    args, res = bench.args, bench.results
    await prepare(bench, args.homes)
    receive_maximum = Settings(_env_file=None).mqtt_receive_maximum
    await phase_publisher_alone(bench, args.messages)
    await phase_ceiling(bench, args.messages, receive_maximum)
    conn = await asyncpg.connect(bench.pg.dsn())
    try:
        start_workers(bench, args.workers)
        await wait_subscribed(bench)
        await phase_committed(bench, conn, args.messages)
        latency = await steady(bench, conn, args.duration, args.rate, "latency")
        res["offered_per_s"] = latency.pop("offered_per_s")
        res["p50_commit_ms"] = latency["normal"]["p50_ms"]
        res["p99_commit_ms"] = latency["normal"]["p99_ms"]
        res["alarm_p50_ms"] = latency["alarm"]["p50_ms"]
        res["alarm_p99_ms"] = latency["alarm"]["p99_ms"]
        res["latency"] = latency
        saturated = await steady(bench, conn, args.saturated, args.rate, "saturated", hogs=args.hogs)
        res["saturated_alarm_p50_ms"] = saturated["alarm"]["p50_ms"]
        res["saturated_alarm_p99_ms"] = saturated["alarm"]["p99_ms"]
        res["saturated"] = saturated
        await phase_soak(bench, conn, args.soak, args.rate)
        pids = [w.pid for w in bench.workers]
        res["worker_metrics"] = await db.worker_metrics(
            bench.metrics_ports, pids + [c for pid in pids for c in alarm.children(pid)]
        )
        stop_workers(bench)
        res["writers"] = await db.compare_writers(bench.pg.dsn(), bench.devices, rows=args.writer_rows)
        res["machine"] = db.machine_info(bench.pg.dsn(), bench.storage)
    finally:
        await conn.close()


def run_mode(args: argparse.Namespace) -> str:
    """quick, full (every phase at its default length), or custom."""
    if args.quick:
        return "quick"
    defaults = parse_args([])
    lengths = ("duration", "soak", "saturated", "messages", "rate", "homes", "hogs", "writer_rows")
    return "full" if all(getattr(args, k) == getattr(defaults, k) for k in lengths) else "custom"


def summarise(bench: Bench, started: float) -> dict[str, Any]:
    """The JSON document: headline figures first, then the machine, targets and details."""
    res, args = bench.results, bench.args
    res["ratio"] = round(res["committed_per_s"] / res["ceiling_per_s"], 3)
    met = {k: res[k] >= v if op == ">=" else res[k] <= v for k, (op, v) in TARGETS.items()}
    head = [
        "committed_per_s",
        "ceiling_per_s",
        "ratio",
        "p50_commit_ms",
        "p99_commit_ms",
        "alarm_p50_ms",
        "alarm_p99_ms",
        "saturated_alarm_p50_ms",
        "saturated_alarm_p99_ms",
    ]
    return {
        **{k: res[k] for k in head},
        "peak_rss_mb": res["peak_rss_mb"],
        "machine": res["machine"],
        "targets": {k: f"{op} {v}" for k, (op, v) in TARGETS.items()},
        "met": met,
        "all_met": all(met.values()),
        "mode": run_mode(args),
        "workers": args.workers,
        "offered_per_s": res["offered_per_s"],
        "duration_s": args.duration,
        "messages": args.messages,
        "devices": len(bench.devices),
        "latency_source": "pg_xact_commit_timestamp(xmin) - time;"
        " *_stored_at_ms: stored_at (the transaction's start) - time",
        **{k: v for k, v in res.items() if k not in [*head, "peak_rss_mb", "offered_per_s", "machine"]},
        "bench_seconds": round(time.monotonic() - started, 1),
        "run_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def print_summary(doc: dict[str, Any], path: Path) -> None:
    """A few lines for people."""
    machine, rss = doc["machine"], doc["rss_mb"]

    def line(label: str, key: str, value: str) -> str:
        op, target = TARGETS[key]
        return f"  {label:<12}{value:<44} target {op} {target}  {'ok' if doc['met'][key] else 'MISSED'}"

    lines = [
        f"ingest bench ({doc['mode']}, {doc['workers']} worker(s), {machine['cores']} cores,"
        f" {machine['storage']}, durable):",
        line("committed", "committed_per_s", f"{doc['committed_per_s']} readings/s"),
        f"  {'ceiling':<12}{doc['ceiling_per_s']} msg/s (bare paho subscriber);"
        f" publisher alone {doc['publisher_max_per_s']} msg/s",
        line("ratio", "ratio", str(doc["ratio"])),
        line(
            "latency",
            "p99_commit_ms",
            f"p50 {doc['p50_commit_ms']} / p99 {doc['p99_commit_ms']} ms at {doc['offered_per_s']}/s",
        ),
        line("alarm", "alarm_p99_ms", f"p50 {doc['alarm_p50_ms']} / p99 {doc['alarm_p99_ms']} ms"),
        line(
            "saturated",
            "saturated_alarm_p99_ms",
            f"alarm p50 {doc['saturated_alarm_p50_ms']} / p99 {doc['saturated_alarm_p99_ms']} ms,"
            f" load {doc['saturated']['load_average_during']['max_1min']}",
        ),
        f"  {'worker RSS':<12}peak {doc['peak_rss_mb']} MB; soak first/last/max"
        f" {rss['first']}/{rss['last']}/{rss['max']} MB",
        f"  {'writers':<12}" + ", ".join(f"{k} {v['rows_per_s']}/s" for k, v in doc["writers"].items()),
        f"  took {doc['bench_seconds']} s; written to {path}",
    ]
    if "alarm_p99_ms" in doc.get("plain_postgresql", {}):
        pg = doc["plain_postgresql"]
        lines.insert(
            -1,
            f"  {'plain pg':<12}alarm p50 {pg['alarm_p50_ms']} / p99 {pg['alarm_p99_ms']} ms;"
            f" saturated p50 {pg['saturated_alarm_p50_ms']} / p99 {pg['saturated_alarm_p99_ms']} ms",
        )
    print("\n".join(lines))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options (full mode unless --quick)."""
    p = argparse.ArgumentParser(prog="python -m bench.ingest", description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="short phases (the whole bench in < 2 minutes)")
    p.add_argument("--duration", type=float, help="latency phase seconds (default 60; quick 10)")
    p.add_argument("--soak", type=float, help="memory soak seconds (default 180; quick 20)")
    p.add_argument("--saturated", type=float, help="saturated phase seconds (default 45; quick 10)")
    p.add_argument("--hogs", type=int, default=alarm.HOGS, help="CPU-bound processes in the saturated phase")
    p.add_argument(
        "--plain-postgres",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="after a TimescaleDB run, the alarm phases again on plain PostgreSQL",
    )
    p.add_argument(
        "--messages", type=int, help="messages for ceiling and committed (default 300000; quick 60000)"
    )
    p.add_argument("--rate", type=float, default=10000, help="offered readings/s in latency and soak")
    p.add_argument("--homes", type=int, default=500, help="homes, with 4 devices each")
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        help="ingest worker processes (more than one: a shared subscription)",
    )
    p.add_argument("--writer-rows", type=int, default=50000)
    p.add_argument("--out", type=Path, default=OUT)
    p.add_argument("--keep", action="store_true", help="keep the temporary folder (logs, data)")
    args = p.parse_args(argv)
    quick = args.quick
    args.duration = args.duration or (10.0 if quick else 60.0)
    args.soak = args.soak or (20.0 if quick else 180.0)
    args.saturated = args.saturated or (10.0 if quick else 45.0)
    args.messages = args.messages or (60000 if quick else 300000)
    return args


async def alarm_phases(bench: Bench) -> None:
    """The second storage path: latency and saturated only (half as long), for the alarm's figures."""
    args, res = bench.args, bench.results
    await prepare(bench, args.homes)
    conn = await asyncpg.connect(bench.pg.dsn())
    try:
        start_workers(bench, args.workers)
        await wait_subscribed(bench)
        res["latency"] = await steady(bench, conn, args.duration / 2, args.rate, "latency")
        res["saturated"] = await steady(
            bench, conn, args.saturated / 2, args.rate, "saturated", hogs=args.hogs
        )
        stop_workers(bench)
        # The same rows written the same ways as on the first path: what a hypertable costs a batch.
        res["writers"] = await db.compare_writers(bench.pg.dsn(), bench.devices, rows=args.writer_rows)
    finally:
        await conn.close()
    res["storage"] = bench.storage
    res["alarm_p50_ms"] = res["latency"]["alarm"]["p50_ms"]
    res["alarm_p99_ms"] = res["latency"]["alarm"]["p99_ms"]
    res["saturated_alarm_p50_ms"] = res["saturated"]["alarm"]["p50_ms"]
    res["saturated_alarm_p99_ms"] = res["saturated"]["alarm"]["p99_ms"]


def run_on_servers(args: argparse.Namespace, *, timescaledb: bool | None, phases: Any) -> Bench:
    """Private durable servers in a temporary folder, `phases(bench)` against them, everything stopped."""
    root = Path(tempfile.mkdtemp(prefix="telecare-bench-"))
    os.chmod(root, 0o755)  # the servers run as postgres / mosquitto when we are root
    # Durable: fsync and synchronous commit on; timescaledb preloaded when it is installed.
    pg = EmbeddedPostgres(root / "pg", free_port(), fast_unsafe=False, preload_timescaledb=timescaledb)
    broker = EmbeddedMosquitto(root / "mqtt", free_port())
    bench = Bench(root, pg, broker, args)
    try:
        db.start_servers(pg, broker)
        asyncio.run(phases(bench))
    finally:
        stop_workers(bench)
        broker.stop()
        pg.stop()
        if args.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    return bench


def plain_postgres_pass(args: argparse.Namespace) -> dict[str, Any]:
    """The alarm phases on plain PostgreSQL; a failure is reported in the result, not raised, so the
    first path's figures are still written."""
    try:
        second = run_on_servers(args, timescaledb=False, phases=alarm_phases).results
    except Exception as exc:
        print(f"plain PostgreSQL pass failed: {exc!r}", file=sys.stderr)
        return {"error": repr(exc)}
    second["met"] = {k: second[k] <= TARGETS[k][1] for k in ("alarm_p99_ms", "saturated_alarm_p99_ms")}
    return second


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; servers and the worker are stopped whatever happens."""
    args = parse_args(argv)
    started = time.monotonic()
    bench = run_on_servers(args, timescaledb=None, phases=run_phases)
    # Figures of the second path are taken after the first's servers are gone, so they do not compete.
    second: dict[str, Any] | None = None
    if args.plain_postgres and bench.storage.startswith("timescaledb"):
        second = plain_postgres_pass(args)
    doc = summarise(bench, started)
    if second is not None:
        doc["plain_postgresql"] = second
        doc["bench_seconds"] = round(time.monotonic() - started, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2) + b"\n")
    # docs/scaling.md shows the figures of the committed full run, and only those.
    if args.out == OUT and doc["mode"] == "full" and report.update(doc, SCALING):
        print(f"  table written to {SCALING}")
    print_summary(doc, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
