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
- soak: the same load for --soak seconds, the workers' VmRSS every 5 s; their VmHWM at the end;
- writers: the same 50,000 rows written four ways (see `db.compare_writers`).

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
from pathlib import Path
from typing import Any

import asyncpg
import orjson

from bench.ingest import db
from bench.ingest.phases import (
    OUT,
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
        res["alarm_p99_ms"] = latency["alarm"]["p99_ms"]
        res["latency"] = latency
        await phase_soak(bench, conn, args.soak, args.rate)
        res["worker_metrics"] = await db.worker_metrics(bench.metrics_ports, [w.pid for w in bench.workers])
        stop_workers(bench)
        res["writers"] = await db.compare_writers(bench.pg.dsn(), bench.devices, rows=args.writer_rows)
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
        "machine": db.machine_info(bench.pg.dsn(), bench.storage),
        "targets": {k: f"{op} {v}" for k, (op, v) in TARGETS.items()},
        "met": met,
        "all_met": all(met.values()),
        "mode": "quick" if args.quick else "full",
        "workers": args.workers,
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
        line("alarm", "alarm_p99_ms", f"p99 {doc['alarm_p99_ms']} ms"),
        f"  {'worker RSS':<12}peak {doc['peak_rss_mb']} MB; soak first/last/max"
        f" {rss['first']}/{rss['last']}/{rss['max']} MB",
        f"  {'writers':<12}" + ", ".join(f"{k} {v['rows_per_s']}/s" for k, v in doc["writers"].items()),
        f"  took {doc['bench_seconds']} s; written to {path}",
    ]
    print("\n".join(lines))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options (full mode unless --quick)."""
    p = argparse.ArgumentParser(prog="python -m bench.ingest", description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="short phases (the whole bench in < 2 minutes)")
    p.add_argument("--duration", type=float, help="latency phase seconds (default 60; quick 10)")
    p.add_argument("--soak", type=float, help="memory soak seconds (default 300; quick 20)")
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
        db.start_servers(pg, broker)
        asyncio.run(run_phases(bench))
        doc = summarise(bench, started)
    finally:
        stop_workers(bench)
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
