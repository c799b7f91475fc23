"""The API on the fleet's database: the alert listing with millions of alerts, and a home's readings.

The same clients as bench/api (wrk, a thread and a coordinator token per connection): the listing's
script is bench/api/listing.lua, a home's latest readings bench/fleet/readings.lua (a random home of
the fleet each request, so the pages come from all over the readings' indexes, not from cache).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg

from accounts import service as accounts
from accounts.tenancy import Role
from bench.api.__main__ import PASSWORD, login_all, run_wrk, start_api
from bench.fleet.provision import seed_alerts
from kernel.embedded import EmbeddedMosquitto, EmbeddedPostgres
from kernel.embedded.process import free_port
from simulators.fleet import home_id

READINGS_SCRIPT = Path(__file__).with_name("readings.lua")
# What the two requests run (alerts.queries.select_page, ingest.queries.select_readings), explained.
EXPLAIN_LISTING = """
EXPLAIN (ANALYZE, BUFFERS, FORMAT TEXT)
SELECT * FROM alerts WHERE organisation_id = $1 ORDER BY triggered_at DESC, id DESC LIMIT 51
"""
EXPLAIN_READINGS = """
EXPLAIN (ANALYZE, BUFFERS, FORMAT TEXT)
SELECT time, received_at, stored_at, device_id, seq, kind, value, payload, clock_suspect FROM readings
WHERE home_id = $1 AND time >= now() - interval '1 day' AND time < now()
ORDER BY time DESC, device_id, seq DESC LIMIT 100
"""


async def _coordinator(dsn: str) -> tuple[str, str]:
    conn = await asyncpg.connect(dsn)
    try:
        org = await conn.fetchval("SELECT id FROM organisations ORDER BY name LIMIT 1")
        email = "fleet-coordinator@bench.example"
        await accounts.create_user(
            conn, email=email, name="Fleet coordinator", role=Role.COORDINATOR, organisation_id=org,
            password=PASSWORD,
        )  # fmt: skip
        return email, str(org)
    finally:
        await conn.close()


def _ms(run: dict[str, Any]) -> dict[str, Any]:
    return {
        "requests": run["requests"],
        "errors": run["errors"] + run["non_2xx"],
        "rps": round(run["requests"] / (run["duration_us"] / 1e6), 1),
        **{
            k.replace("_us", "_ms"): round(float(run[k]) / 1000, 2)
            for k in ("p50_us", "p95_us", "p99_us", "max_us")
        },
    }


def run_api_phase(
    pg: EmbeddedPostgres, broker: EmbeddedMosquitto, *, homes: int, alerts: int, clients: int, seconds: int
) -> dict[str, Any]:
    """Seed the alerts, serve the API, and measure both requests; the API process is stopped after."""
    seeded_s = asyncio.run(seed_alerts(pg.dsn(), alerts=alerts, homes=homes))
    email, org = asyncio.run(_coordinator(pg.dsn()))
    port = free_port()
    api = start_api(pg, broker, port=port, workers=2)
    url = f"http://127.0.0.1:{port}"
    try:
        tokens = asyncio.run(login_all(url, [email], clients=clients))
        with tempfile.TemporaryDirectory(prefix="telecare-fleet-api-") as folder:
            token_file, home_file = Path(folder, "tokens"), Path(folder, "homes")
            token_file.write_text("\n".join(tokens) + "\n")
            home_file.write_text(
                "\n".join(str(home_id(n)) for n in range(0, homes, max(1, homes // 5000))) + "\n"
            )
            os.environ["BENCH_HOMES"] = str(home_file)
            run_wrk(url, token_file, clients=clients, seconds=3)  # warm-up
            listing = run_wrk(url, token_file, clients=clients, seconds=seconds)
            readings = run_wrk(url, token_file, clients=clients, seconds=seconds, script=READINGS_SCRIPT)
        plans = asyncio.run(_explain(pg.dsn(), org, str(home_id(homes // 2))))
    finally:
        api.terminate()
        api.wait(timeout=30)
    return {
        "alerts": alerts,
        "homes": homes,
        "seed_s": seeded_s,
        "clients": clients,
        "seconds": seconds,
        "alert_listing": _ms(listing),
        "home_readings": _ms(readings),
        "plans": plans,
        "target": {"rps_at_least": 1000, "p99_ms_at_most": 100},
    }


async def _explain(dsn: str, org: str, home: str) -> dict[str, list[str]]:
    conn = await asyncpg.connect(dsn)
    try:
        listing = [r[0] for r in await conn.fetch(EXPLAIN_LISTING, UUID(org))]
        readings = [r[0] for r in await conn.fetch(EXPLAIN_READINGS, UUID(home))]
        return {"alert_listing": listing, "home_readings": readings}
    finally:
        await conn.close()
