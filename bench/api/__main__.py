"""API benchmark: authenticated alert listing under concurrent clients (`make bench`, `python -m bench.api`).

A durable embedded PostgreSQL gets a million alerts across a thousand homes of ten organisations (one
generate_series statement); `telecare api` serves them from `--workers` uvicorn processes; a separate
process runs `--clients` concurrent HTTP/1.1 keep-alive clients, each logged in as a coordinator,
listing pages of 50 (every other request follows the previous page's cursor). Writes docs/bench/api.json.

The clients are wrk (bench/api/listing.lua), one connection per thread: an httpx client spent more CPU
per request than the server, on the same two cores, so it measured itself more than the API.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson

from accounts import service as accounts
from accounts.tenancy import Role
from kernel.embedded import EmbeddedMosquitto, EmbeddedPostgres
from kernel.embedded.mosquitto import ADMIN_USER
from kernel.embedded.process import free_port
from kernel.migrate import migrate
from kernel.settings import StorageMode

PASSWORD = "bench-password-0123"
SECRET = "bench-jwt-secret-" + "x" * 32
OUT = Path(__file__).resolve().parents[2] / "docs" / "bench" / "api.json"
WRK_SCRIPT = Path(__file__).with_name("listing.lua")

_SEED = """
INSERT INTO organisations (name) SELECT 'Bench org ' || o FROM generate_series(1, $1) o;
INSERT INTO homes (organisation_id, name)
SELECT o.id, 'Home ' || h FROM organisations o, generate_series(1, $2 / $1) h;
WITH h AS (SELECT id, organisation_id, (row_number() OVER (ORDER BY id)) - 1 AS n FROM homes)
INSERT INTO alerts (home_id, organisation_id, kind, severity, status, dedupe_key, room, title, explanation,
                    evidence, triggered_at, last_seen_at, resolved_at, resolution)
SELECT h.id, h.organisation_id,
       (ARRAY['inactivity','not_up','night_wandering','bathroom_too_long','cold_home','device_offline',
              'low_battery','alarm_pressed'])[1 + g % 8],
       (ARRAY['low','medium','high','critical'])[1 + g % 4],
       CASE WHEN g % 50 = 0 THEN 'open' WHEN g % 50 = 1 THEN 'acknowledged' ELSE 'resolved' END,
       'bench-' || g, 'kitchen', 'No movement since 09:00',
       'The home has been quiet for longer than is normal at this time of day.',
       jsonb_build_array(jsonb_build_object('room', 'kitchen', 'minutes', g % 240)),
       ts, ts, CASE WHEN g % 50 > 1 THEN ts + interval '20 minutes' END,
       CASE WHEN g % 50 > 1 THEN 'handled' END
FROM generate_series(1, $3) g
JOIN h ON h.n = g % $2
CROSS JOIN LATERAL (SELECT now() - g * interval '30 seconds' AS ts) t;
"""


async def seed(dsn: str, *, organisations: int, homes: int, alerts: int) -> list[str]:
    """Migrate, insert the alerts, and create one coordinator per organisation; returns their emails."""
    conn = await asyncpg.connect(dsn)
    try:
        await migrate(conn, storage=StorageMode.POSTGRES)
        started = time.monotonic()
        # asyncpg sends a multi-statement string only without arguments, so inline the (integer) sizes.
        sql = _SEED.replace("$1", str(organisations)).replace("$2", str(homes)).replace("$3", str(alerts))
        await conn.execute(sql)
        await conn.execute("VACUUM ANALYZE alerts")
        print(f"seeded {alerts} alerts in {time.monotonic() - started:.1f}s", flush=True)
        emails = []
        for n, org in enumerate(await conn.fetch("SELECT id FROM organisations ORDER BY name")):
            email = f"coordinator{n}@bench.example"
            await accounts.create_user(
                conn,
                email=email,
                name=f"Coordinator {n}",
                role=Role.COORDINATOR,
                organisation_id=org["id"],
                password=PASSWORD,
            )
            emails.append(email)
        return emails
    finally:
        await conn.close()


def start_api(
    pg: EmbeddedPostgres, broker: EmbeddedMosquitto, *, port: int, workers: int
) -> subprocess.Popen[bytes]:
    """`telecare api` with the given number of uvicorn workers."""
    env = {
        **os.environ,
        "TELECARE_DATABASE_URL": pg.dsn(),
        "TELECARE_MQTT_URL": broker.url,
        "TELECARE_MQTT_USERNAME": ADMIN_USER,
        "TELECARE_MQTT_PASSWORD": broker.admin_password,
        "TELECARE_JWT_SECRET": SECRET,
        "TELECARE_API_PORT": str(port),
        "TELECARE_API_WORKERS": str(workers),
        "TELECARE_LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen([sys.executable, "-m", "telecare.cli", "api"], env=env)


async def login_all(url: str, emails: list[str], *, clients: int) -> list[str]:
    """Log each client in through the API (as the coordinators in turn); their access tokens."""
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        async with asyncio.timeout(60):
            while True:
                try:
                    if (await client.get("/ready")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.2)
        tokens = []
        for n in range(clients):
            form = {"username": emails[n % len(emails)], "password": PASSWORD}
            response = await client.post("/v1/auth/token", data=form)
            response.raise_for_status()
            tokens.append(response.json()["access_token"])
        return tokens


def run_wrk(
    url: str, tokens: Path, *, clients: int, seconds: int, script: Path = WRK_SCRIPT
) -> dict[str, Any]:
    """One wrk run of a script (the listing's by default), a thread per connection; its summary (µs)."""
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("api bench: wrk is missing (apt-get install wrk; `make bench` installs it)")
    command = [wrk, f"-t{clients}", f"-c{clients}", f"-d{seconds}s", "--timeout", "10s"]
    command += ["-s", str(script), url]
    env = {**os.environ, "BENCH_TOKENS": str(tokens)}
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    summary: dict[str, Any] = orjson.loads(done.stdout.strip().splitlines()[-1])
    return summary


def drive(url: str, tokens: list[str], args: argparse.Namespace) -> dict[str, Any]:
    """Warm up, then measure; throughput and wrk's latency distribution of the measured run."""
    with tempfile.NamedTemporaryFile("w", suffix=".tokens") as file:
        file.write("\n".join(tokens) + "\n")
        file.flush()
        if args.warmup > 0:
            run_wrk(url, Path(file.name), clients=args.clients, seconds=args.warmup)
        run = run_wrk(url, Path(file.name), clients=args.clients, seconds=args.seconds)

    def ms(key: str) -> float:
        return round(float(run[key]) / 1000, 2)

    return {
        "requests": run["requests"],
        "errors": run["errors"] + run["non_2xx"],
        "rps": round(run["requests"] / (run["duration_us"] / 1e6), 1),
        "p50_ms": ms("p50_us"),
        "p95_ms": ms("p95_us"),
        "p99_ms": ms("p99_us"),
        "max_ms": ms("max_us"),
    }


def machine(dsn: str) -> dict[str, Any]:
    """The CPU, cores, memory and versions the figures were measured on."""
    import psycopg

    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next(
        (x.split(":", 1)[1].strip() for x in cpuinfo if x.startswith("model name")), platform.processor()
    )
    mem_kb = next(
        int(x.split()[1]) for x in Path("/proc/meminfo").read_text().splitlines() if "MemTotal" in x
    )
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT current_setting('server_version'), current_setting('shared_buffers')"
        ).fetchone()
    assert row is not None
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "postgresql": row[0],
        "shared_buffers": row[1],
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(prog="python -m bench.api", description=__doc__)
    parser.add_argument("--alerts", type=int, default=1_000_000)
    parser.add_argument("--homes", type=int, default=1000)
    parser.add_argument("--organisations", type=int, default=10)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--out", type=Path, default=OUT)
    return parser.parse_args(argv)


def bench(args: argparse.Namespace) -> dict[str, Any]:
    """Start the servers, seed, serve, drive; everything started is stopped whatever happens."""
    root = Path(tempfile.mkdtemp(prefix="telecare-api-bench-"))
    os.chmod(root, 0o755)  # the servers run as postgres / mosquitto when we are root
    pg = EmbeddedPostgres(root / "pg", free_port(), preload_timescaledb=False, fast_unsafe=False)
    broker = EmbeddedMosquitto(root / "mqtt", free_port())
    api: subprocess.Popen[bytes] | None = None
    try:
        pg.start()
        broker.start()
        emails = asyncio.run(
            seed(pg.dsn(), organisations=args.organisations, homes=args.homes, alerts=args.alerts)
        )
        port = free_port()
        api = start_api(pg, broker, port=port, workers=args.workers)
        url = f"http://127.0.0.1:{port}"
        tokens = asyncio.run(login_all(url, emails, clients=args.clients))
        load_before = os.getloadavg()[0]
        result = drive(url, tokens, args)
        return {
            **result,
            "clients": args.clients,
            "client": "wrk, one connection per thread (bench/api/listing.lua)",
            "workers": args.workers,
            "seconds": args.seconds,
            "page_size": 50,
            "alerts": args.alerts,
            "homes": args.homes,
            "organisations": args.organisations,
            "target": {"rps_at_least": 1000, "p99_ms_at_most": 100},
            "machine": machine(pg.dsn()) | {"load_average_1m_before": round(load_before, 2)},
            "notes": (
                "API, PostgreSQL (durable settings, plain PostgreSQL storage) and the client process "
                "share the same cores; each client has its own coordinator token, and each coordinator "
                "sees alerts/organisations alerts; half the requests follow a cursor; p99 is wrk's."
            ),
        }
    finally:
        stop_all(api, broker, pg, root)


def stop_all(
    api: subprocess.Popen[bytes] | None, broker: EmbeddedMosquitto, pg: EmbeddedPostgres, root: Path
) -> None:
    """Stop what a benchmark started (the API if it got that far) and remove its files."""
    if api is not None:
        api.terminate()
        api.wait(timeout=30)
    broker.stop()
    pg.stop()
    shutil.rmtree(root, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark."""
    args = parse_args(argv)
    doc = bench(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2) + b"\n")
    print(
        f"api bench: {doc['rps']} requests/s, p99 {doc['p99_ms']} ms, {doc['clients']} clients -> {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
