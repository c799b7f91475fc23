"""Visits benchmark: today's board and a month's report for an organisation with 2,000 visits a day and a
year of history (`make bench`, `python -m bench.visits`).

A durable embedded PostgreSQL gets the organisation (bench/visits/seed.py: 500 homes, four visits a day
each, a year back and two weeks ahead, with carers, tasks, check-ins, check-outs and verdicts, and a small
second organisation); `telecare api` serves it from `--workers` uvicorn processes. wrk (bench/api/
listing.lua, one connection per thread, each a coordinator's token) asks for today's board in pages of 50,
every other request following the previous page's cursor; the same wrk against /health, in the same run,
is the ceiling of this machine at that moment. Then a month's report for the organisation (JSON, by
organisation, by home and by carer) is timed one request at a time. Writes docs/bench/visits.json.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import orjson

from accounts import service as accounts
from accounts.tenancy import Role
from bench.api.__main__ import PASSWORD, WRK_SCRIPT, login_all, machine, run_wrk, start_api, stop_all
from bench.visits.seed import ZONE, seed_organisation
from kernel.embedded import EmbeddedMosquitto, EmbeddedPostgres
from kernel.embedded.process import free_port
from kernel.migrate import migrate
from kernel.settings import StorageMode

OUT = Path(__file__).resolve().parents[2] / "docs" / "bench" / "visits.json"
PAGE = 50
TARGET = {"board_rps_at_least": 500, "board_p99_ms_at_most": 100, "report_s_at_most": 2.0}


async def seed(dsn: str, args: argparse.Namespace, today: date) -> tuple[UUID, int, list[str]]:
    """Migrate, seed, and create the organisation's coordinators; (organisation, visits, emails)."""
    conn = await asyncpg.connect(dsn)
    try:
        await migrate(conn, storage=StorageMode.POSTGRES)
        org, visits = await seed_organisation(
            conn, homes=args.homes, carers=args.carers, days=args.days, today=today
        )
        emails = []
        for n in range(4):
            email = f"coordinator{n}@bench.example"
            await accounts.create_user(
                conn,
                email=email,
                name=f"Coordinator {n}",
                role=Role.COORDINATOR,
                organisation_id=org,
                password=PASSWORD,
            )
            emails.append(email)
        return org, visits, emails
    finally:
        await conn.close()


def wrk(url: str, path: str, tokens: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Warm up, then one measured wrk run of the listing script against `path`; requests/s and
    latencies (ms)."""
    os.environ["BENCH_PATH"] = path  # listing.lua reads it in setup(); wrk inherits the environment
    if args.warmup > 0:
        run_wrk(url, tokens, clients=args.clients, seconds=args.warmup, script=WRK_SCRIPT)
    run = run_wrk(url, tokens, clients=args.clients, seconds=args.seconds, script=WRK_SCRIPT)
    return {
        "requests": run["requests"],
        "errors": run["errors"] + run["non_2xx"],
        "rps": round(run["requests"] / (run["duration_us"] / 1e6), 1),
        **{f"{k}_ms": round(float(run[f"{k}_us"]) / 1000, 2) for k in ("p50", "p95", "p99", "max")},
    }


async def time_reports(
    url: str, token: str, org: UUID, since: date, until: date, runs: int
) -> dict[str, Any]:
    """A month's report for the organisation, one request at a time: seconds per run, per grouping."""
    out: dict[str, Any] = {"since": since.isoformat(), "until": until.isoformat()}
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=url, timeout=60, headers=headers) as client:
        for by in ("organisation", "home", "carer"):
            seconds = []
            planned = 0
            for _ in range(runs):
                started = time.perf_counter()
                response = await client.get(
                    f"/v1/organisations/{org}/visit-report",
                    params={"since": since.isoformat(), "until": until.isoformat(), "by": by},
                )
                seconds.append(time.perf_counter() - started)
                response.raise_for_status()
                planned = sum(line["planned"] for line in response.json()["lines"])
            out[by] = {
                "lines_planned": planned,
                "seconds": [round(s, 3) for s in seconds],
                "median_s": round(statistics.median(seconds), 3),
                "max_s": round(max(seconds), 3),
            }
    return out


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(prog="python -m bench.visits", description=__doc__)
    parser.add_argument("--homes", type=int, default=500, help="four visits a day each")
    parser.add_argument("--carers", type=int, default=250)
    parser.add_argument("--days", type=int, default=365, help="days of history")
    parser.add_argument("--clients", type=int, default=16, help="wrk connections (one thread each)")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--report-runs", type=int, default=5)
    parser.add_argument("--out", type=Path, default=OUT)
    return parser.parse_args(argv)


def _month_before(today: date) -> tuple[date, date]:
    until = today.replace(day=1)
    return (until - timedelta(days=1)).replace(day=1), until


def bench(args: argparse.Namespace) -> dict[str, Any]:
    """Start the servers, seed, serve, measure; everything started is stopped whatever happens."""
    root = Path(tempfile.mkdtemp(prefix="telecare-visits-bench-"))
    os.chmod(root, 0o755)  # the servers run as postgres / mosquitto when we are root
    pg = EmbeddedPostgres(root / "pg", free_port(), preload_timescaledb=False, fast_unsafe=False)
    broker = EmbeddedMosquitto(root / "mqtt", free_port())
    api = None
    today = datetime.now(ZoneInfo(ZONE)).date()
    try:
        pg.start()
        broker.start()
        started = time.monotonic()
        org, visits, emails = asyncio.run(seed(pg.dsn(), args, today))
        seed_s = time.monotonic() - started
        port = free_port()
        api = start_api(pg, broker, port=port, workers=args.workers)
        url = f"http://127.0.0.1:{port}"
        tokens = asyncio.run(login_all(url, emails, clients=args.clients))
        board_path = f"/v1/organisations/{org}/visits/board?limit={PAGE}"
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {tokens[0]}"}) as client:
            first = client.get(board_path).raise_for_status().json()
        load_before = os.getloadavg()
        with tempfile.NamedTemporaryFile("w", suffix=".tokens") as file:
            file.write("\n".join(tokens) + "\n")
            file.flush()
            board = wrk(url, board_path, Path(file.name), args)
            ceiling = wrk(url, "/health?", Path(file.name), args)
        load_after = os.getloadavg()
        since, until = _month_before(today)
        reports = asyncio.run(time_reports(url, tokens[0], org, since, until, args.report_runs))
        return {
            "board": board
            | {"page_size": PAGE, "visits_today": sum(first["counts"].values()), "counts": first["counts"]},
            "ceiling_health": ceiling,
            "board_share_of_ceiling": round(board["rps"] / ceiling["rps"], 3) if ceiling["rps"] else None,
            "report_month": reports,
            "met": {
                "board_rps": board["rps"] >= TARGET["board_rps_at_least"],
                "board_p99": board["p99_ms"] <= TARGET["board_p99_ms_at_most"],
                "report": max(reports[g]["max_s"] for g in ("organisation", "home", "carer"))
                <= TARGET["report_s_at_most"],
            },
            "target": TARGET,
            "data": {
                "visits_in_organisation": visits,
                "homes": args.homes,
                "carers": args.carers,
                "days_of_history": args.days,
                "days_ahead": 13,
                "seed_seconds": round(seed_s, 1),
            },
            "clients": args.clients,
            "client": "wrk, one connection per thread (bench/api/listing.lua)",
            "workers": args.workers,
            "seconds": args.seconds,
            "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": machine(pg.dsn())
            | {
                "load_average_before": [round(x, 2) for x in load_before],
                "load_average_after_wrk": [round(x, 2) for x in load_after],
            },
            "notes": (
                "API (uvicorn workers), PostgreSQL (durable settings) and wrk share the same cores; "
                "half the board requests follow a cursor (the counts are on the first page only); the "
                "ceiling is the same wrk against /health in the same run; p99 is wrk's; the report is "
                "timed through the API, one request at a time, after the board runs."
            ),
        }
    finally:
        stop_all(api, broker, pg, root)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and write its JSON."""
    args = parse_args(argv)
    doc = bench(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2) + b"\n")
    board, month = doc["board"], doc["report_month"]["organisation"]
    print(
        f"visits bench: board {board['rps']} requests/s, p99 {board['p99_ms']} ms "
        f"(ceiling {doc['ceiling_health']['rps']}/s); month's report {month['max_s']} s -> {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
