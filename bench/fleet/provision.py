"""The fleet in the database, in bulk: 100,000 homes, each with its hub and twelve devices, in plain SQL.

Registering 1.3 million devices through the API (and the broker's dynamic security) would take hours
and measure provisioning, not ingest. The ids are the fleet model's (simulators.fleet.home_id and
device_id), so the publisher and the database agree without exchanging them. The broker side is one
benchmark role allowed under the whole topic root, shared by every hub connection (see __main__).
"""

from __future__ import annotations

import time
from typing import Any

import asyncpg

from kernel.migrate import migrate
from simulators.fleet import KIT, device_id, home_id

_CHUNK = 20_000


async def provision(dsn: str, homes: int) -> dict[str, Any]:
    """Migrate and insert the fleet's organisation, homes, devices (hubs included); returns timings."""
    conn = await asyncpg.connect(dsn)
    try:
        storage = (await migrate(conn)).storage.describe()
        started = time.monotonic()
        org = await conn.fetchval("INSERT INTO organisations (name) VALUES ('Fleet') RETURNING id")
        for first in range(0, homes, _CHUNK):
            span = range(first, min(first + _CHUNK, homes))
            await conn.copy_records_to_table(
                "homes",
                records=[(home_id(n), org, f"Home {n}") for n in span],
                columns=["id", "organisation_id", "name"],
            )
            rows = [
                (device_id(n, k), home_id(n), kind, room)
                for n in span
                for k, (kind, room) in enumerate((*KIT, ("hub", "hallway")))
            ]
            await conn.copy_records_to_table(
                "devices", records=rows, columns=["id", "home_id", "type", "room"]
            )
        # A fleet that is running: every device was heard from a moment ago and is online. (From an
        # empty device_health, the first message of each of 1.3 million devices would be its first
        # ever, with an `online` event each: a cold start, not the steady state measured here.)
        await conn.execute(
            """
            INSERT INTO device_health (device_id, home_id, last_seen_at, last_event_at, online,
                                       online_changed_at, offline_reason)
            SELECT id, home_id, now(), now(), true, now() - interval '1 day', NULL FROM devices
            """
        )
        await conn.execute("ANALYZE")
        devices = int(await conn.fetchval("SELECT count(*) FROM devices"))
        return {
            "storage": storage,
            "organisation_id": str(org),
            "homes": homes,
            "devices": devices,
            "hubs": homes,
            "devices_behind_hubs": devices - homes,
            "provision_s": round(time.monotonic() - started, 1),
        }
    finally:
        await conn.close()


ALERTS_SQL = """
WITH h AS (SELECT id, organisation_id, (row_number() OVER (ORDER BY id)) - 1 AS n FROM homes)
INSERT INTO alerts (home_id, organisation_id, kind, severity, status, dedupe_key, room, title, explanation,
                    evidence, triggered_at, last_seen_at, resolved_at, resolution)
SELECT h.id, h.organisation_id,
       (ARRAY['inactivity','not_up','night_wandering','bathroom_too_long','cold_home','device_offline',
              'low_battery','hub_offline'])[1 + g % 8],
       (ARRAY['low','medium','high','critical'])[1 + g % 4],
       CASE WHEN g % 500 = 0 THEN 'open' WHEN g % 500 = 1 THEN 'acknowledged' ELSE 'resolved' END,
       'fleet-' || g, 'kitchen', 'No movement since 09:00',
       'The home has been quiet for longer than is normal at this time of day.',
       jsonb_build_array(jsonb_build_object('room', 'kitchen', 'minutes', g % 240)),
       ts, ts, CASE WHEN g % 500 > 1 THEN ts + interval '20 minutes' END,
       CASE WHEN g % 500 > 1 THEN 'handled' END
FROM generate_series($1::bigint, $2::bigint) g
JOIN h ON h.n = g % $3
CROSS JOIN LATERAL (SELECT now() - g * interval '3 seconds' AS ts) t
"""


async def seed_alerts(dsn: str, *, alerts: int, homes: int) -> float:
    """Insert `alerts` alerts spread over the homes (a year of them, newest now); returns seconds."""
    conn = await asyncpg.connect(dsn)
    try:
        started = time.monotonic()
        step = 1_000_000
        for first in range(0, alerts, step):
            await conn.execute(ALERTS_SQL, first + 1, min(first + step, alerts), homes)
        await conn.execute("VACUUM ANALYZE alerts")
        return round(time.monotonic() - started, 1)
    finally:
        await conn.close()


SIZES_SQL = """
SELECT coalesce(sum(pg_total_relation_size(c.oid)) FILTER (WHERE c.relname LIKE 'readings%'
                AND c.relname NOT LIKE 'readings_hourly%'), 0) AS readings,
       coalesce(sum(pg_total_relation_size(c.oid)) FILTER (WHERE c.relname = 'reading_seqs'), 0) AS seqs,
       coalesce(sum(pg_total_relation_size(c.oid)) FILTER (WHERE c.relname = 'ingest_batches'), 0) AS batches,
       coalesce(sum(pg_total_relation_size(c.oid)) FILTER (WHERE c.relname LIKE 'device_health%'), 0)
           AS health
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r' AND n.nspname = 'public'
"""


async def sizes(conn: asyncpg.Connection) -> dict[str, int]:
    """Bytes on disk (tables with their indexes and TOAST) of what ingest writes."""
    row = await conn.fetchrow(SIZES_SQL)
    readings = int(row["readings"])
    if await conn.fetchval("SELECT count(*) FROM pg_extension WHERE extname = 'timescaledb'"):
        readings = int(await conn.fetchval("SELECT hypertable_size('readings')"))
    return {
        "readings": readings,
        "reading_seqs": int(row["seqs"]),
        "ingest_batches": int(row["batches"]),
        "device_health": int(row["health"]),
    }
