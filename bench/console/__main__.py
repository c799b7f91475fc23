"""Console benchmark: a home's page with 28 days of history (`make bench`, `python -m bench.console`).

One simulated home (the demo's simulator, the dementia profile: the busiest) publishes 28 days and today
so far through an embedded Mosquitto to `telecare ingest`, with `telecare detect` learning and alerting on
it, into an embedded PostgreSQL (plain PostgreSQL storage; the hourly rollup refreshed over the month).
Then, with only `telecare api` left running, a coordinator logged in through the console's form asks for
the home's page (today, and yesterday: a whole day) one request at a time. The figure is the server's
own time per page (the console's Server-Timing header: queries and rendering), target at most 300 ms;
the client's wall time is beside it. Writes docs/bench/console.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson

from accounts.service import create_user
from accounts.tenancy import Role
from bench.api.__main__ import machine
from devices.dynsec import connect_admin
from ingest.upkeep import refresh_rollup
from kernel.db import create_pool
from kernel.embedded import EmbeddedMosquitto, EmbeddedPostgres
from kernel.embedded.mosquitto import ADMIN_USER
from kernel.embedded.process import free_port
from kernel.migrate import migrate
from kernel.mqtt import MqttConfig
from kernel.settings import StorageMode
from simulators.service import SimOptions, simulate

OUT = Path(__file__).resolve().parents[2] / "docs" / "bench" / "console.json"
SECRET = "bench-jwt-secret-" + "x" * 32
EMAIL, PASSWORD = "coordinator@bench.example", "bench console password 0123"
_TIMING = re.compile(r"app;dur=([0-9.]+)")
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def _env(pg: EmbeddedPostgres, broker: EmbeddedMosquitto, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "TELECARE_DATABASE_URL": pg.dsn(),
        "TELECARE_MQTT_URL": broker.url,
        "TELECARE_MQTT_USERNAME": ADMIN_USER,
        "TELECARE_MQTT_PASSWORD": broker.admin_password,
        "TELECARE_JWT_SECRET": SECRET,
        "TELECARE_STORAGE": "postgres",
        "TELECARE_LOG_LEVEL": "WARNING",
        "TELECARE_CONSOLE_COOKIE_SECURE": "false",
        **extra,
    }


def _start(command: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "telecare.cli", command], env=env)


async def seed(pg: EmbeddedPostgres, broker: EmbeddedMosquitto, *, days: int) -> tuple[str, int]:
    """Publish the simulated month (and today so far); the home's id and how many readings it has."""
    conn = await asyncpg.connect(pg.dsn())
    try:
        await migrate(conn, storage=StorageMode.POSTGRES)
    finally:
        await conn.close()
    today = datetime.now(UTC).date()
    options = SimOptions(
        homes=1, profiles=("dementia",), days=days, start=today - timedelta(days=days), live=True
    )
    admin_config = MqttConfig(
        host="127.0.0.1",
        port=broker.port,
        client_id="bench-admin",
        username=ADMIN_USER,
        password=broker.admin_password,
    )
    pool = await create_pool(pg.dsn(), min_size=1, max_size=4)
    try:
        async with connect_admin(admin_config) as admin:
            task = asyncio.create_task(
                simulate(pool, admin, options, topic_root="telecare", mqtt_url=broker.url)
            )
            try:
                count = await _caught_up(pool, task)
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        async with pool.acquire() as conn:
            await refresh_rollup(conn, since=datetime.now(UTC) - timedelta(days=days + 1))
            home = await conn.fetchval("SELECT id FROM homes LIMIT 1")
            org = await conn.fetchval("SELECT organisation_id FROM homes WHERE id = $1", home)
            await create_user(
                conn,
                email=EMAIL,
                name="Bench coordinator",
                role=Role.COORDINATOR,
                organisation_id=org,
                password=PASSWORD,
            )
    finally:
        await pool.close()
    return str(home), count


async def _caught_up(pool: asyncpg.Pool, task: asyncio.Task[Any]) -> int:
    last = -1
    async with asyncio.timeout(900):
        while True:
            if task.done():
                task.result()
            async with pool.acquire() as conn:
                count, newest = await conn.fetchrow("SELECT count(*), max(time) FROM readings")
            if (
                newest is not None
                and newest > datetime.now(UTC) - timedelta(minutes=20)
                and count - last < 50
            ):
                return int(count)
            last = count
            await asyncio.sleep(2)


async def measure(url: str, home: str, *, requests: int) -> dict[str, Any]:
    """Log in through the console's form, then ask for the home's page, today and yesterday."""
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        form = await client.get("/console/login")
        found = _CSRF.search(form.text)
        assert found
        done = await client.post(
            "/console/login", data={"email": EMAIL, "password": PASSWORD, "csrf": found.group(1)}
        )
        assert done.status_code == 303, done.text
        yesterday = (datetime.now(UTC) - timedelta(days=1)).date()
        results = {}
        for name, path in (
            ("today", f"/console/homes/{home}"),
            ("yesterday", f"/console/homes/{home}?day={yesterday}"),
        ):
            await client.get(path)  # warm: the first render compiles the templates
            results[name] = await _series(client, path, requests)
    return results


async def _series(client: httpx.AsyncClient, path: str, requests: int) -> dict[str, Any]:
    server, wall, size = [], [], 0
    for _ in range(requests):
        started = time.perf_counter()
        response = await client.get(path)
        wall.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.text[:500]
        found = _TIMING.search(response.headers.get("server-timing", ""))
        assert found
        server.append(float(found.group(1)))
        size = len(response.content)
    return {
        "server_ms": _stats(server),
        "wall_ms": _stats(wall),
        "page_bytes": size,
        "requests": requests,
    }


def _stats(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "p50": round(statistics.median(ordered), 1),
        "p95": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 1),
        "max": round(ordered[-1], 1),
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(prog="python -m bench.console", description=__doc__)
    parser.add_argument("--days", type=int, default=28)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--keep", action="store_true", help="leave PostgreSQL and its data (to profile)")
    return parser.parse_args(argv)


def bench(args: argparse.Namespace) -> dict[str, Any]:
    """Start the servers and processes, seed, measure; everything started is stopped whatever happens."""
    root = Path(tempfile.mkdtemp(prefix="telecare-console-bench-"))
    os.chmod(root, 0o755)  # the servers run as postgres / mosquitto when we are root
    pg = EmbeddedPostgres(root / "pg", free_port(), preload_timescaledb=False, fast_unsafe=False)
    broker = EmbeddedMosquitto(root / "mqtt", free_port())
    processes: list[subprocess.Popen[bytes]] = []
    try:
        pg.start()
        broker.start()
        port = free_port()
        env = _env(pg, broker, TELECARE_API_PORT=str(port))
        processes += [_start("ingest", env), _start("detect", env)]
        time.sleep(3)
        home, readings = asyncio.run(seed(pg, broker, days=args.days))
        for proc in processes:
            proc.terminate()
            proc.wait(timeout=30)
        processes = [_start("api", env)]
        url = f"http://127.0.0.1:{port}"
        asyncio.run(_ready(url))
        load_before = os.getloadavg()[0]
        results = asyncio.run(measure(url, home, requests=args.requests))
        return {
            "pages": results,
            "days": args.days,
            "readings": readings,
            "target": {"server_ms_at_most": 300},
            "met": all(r["server_ms"]["p95"] <= 300 for r in results.values()),
            "machine": machine(pg.dsn()) | {"load_average_1m_before": round(load_before, 2)},
            "notes": (
                "One simulated home (dementia profile) with its month published through the broker to "
                "ingest and the detector; `telecare api` alone running while measured, one request at a "
                "time over loopback. server_ms is the console's Server-Timing (the route's queries and "
                "rendering); wall_ms adds HTTP and the client. The machine is shared: see the load."
            ),
        }
    finally:
        for proc in processes:
            proc.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=30)
        broker.stop()
        if args.keep:
            print(f"kept: {pg.dsn()} (data in {root}; stop with pg_ctl -D {root / 'pg'} stop)")
        else:
            pg.stop()
            shutil.rmtree(root, ignore_errors=True)


async def _ready(url: str) -> None:
    async with httpx.AsyncClient(base_url=url) as probe, asyncio.timeout(60):
        while True:
            with contextlib.suppress(httpx.TransportError):
                if (await probe.get("/ready")).status_code == 200:
                    return
            await asyncio.sleep(0.2)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark."""
    args = parse_args(argv)
    doc = bench(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2) + b"\n")
    for name, result in doc["pages"].items():
        server, wall = result["server_ms"], result["wall_ms"]
        print(
            f"home page ({name}, {doc['readings']} readings in {doc['days']} days): server p50 "
            f"{server['p50']} ms, p95 {server['p95']} ms (target 300); wall p50 {wall['p50']} ms"
        )
    return 0 if doc["met"] else 1


if __name__ == "__main__":
    sys.exit(main())
