"""The database side of the ingest benchmark: servers, devices, the writer comparison, the machine."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import orjson

from bench.ingest.load import FIELDS
from devices.contract import MessageKind
from ingest import queries
from kernel.db import create_pool
from kernel.embedded import EmbeddedMosquitto, EmbeddedPostgres
from kernel.migrate import migrate

_COLUMNS = ", ".join(queries.READING_COLUMNS)
_PG_TYPES = ["timestamptz", "timestamptz", "uuid", "uuid", "int8", "text", "float8", "jsonb", "bool"]
_BATCH = 500  # the worker's default batch size: each batch is one transaction, as in ingest
Row = tuple[Any, ...]

# The writer ingest had before the unnest statement: COPY into a staging table, then INSERT the new rows.
STAGE = """
CREATE TEMP TABLE IF NOT EXISTS readings_in (
    time timestamptz, received_at timestamptz, home_id uuid, device_id uuid, seq bigint,
    kind text, value double precision, payload jsonb, clock_suspect boolean
) ON COMMIT DELETE ROWS
"""

INSERT_NEW = """
WITH batch AS (
    SELECT DISTINCT ON (device_id, seq) * FROM readings_in ORDER BY device_id, seq
), claimed AS (
    INSERT INTO reading_seqs (device_id, seq, time)
    SELECT device_id, seq, time FROM batch
    ON CONFLICT DO NOTHING
    RETURNING device_id, seq
)
INSERT INTO readings (time, received_at, home_id, device_id, seq, kind, value, payload, clock_suspect)
SELECT b.* FROM batch b JOIN claimed c USING (device_id, seq)
ON CONFLICT DO NOTHING
RETURNING device_id, seq
"""


async def _insert_readings(
    conn: asyncpg.Connection, *, rows: Sequence[tuple[Any, ...]]
) -> list[tuple[UUID, int]]:
    """COPY rows in and keep only new ones; returns (device_id, seq) of the rows actually stored.

    Must run inside a transaction: the staging table empties itself at commit.
    """
    await conn.execute(STAGE)
    await conn.copy_records_to_table("readings_in", records=rows, columns=queries.READING_COLUMNS)
    stored = await conn.fetch(INSERT_NEW)
    return [(r["device_id"], r["seq"]) for r in stored]


def _rows(devices: Sequence[tuple[str, str, MessageKind]], count: int, first_seq: int) -> list[Row]:
    now = datetime.now(UTC)
    rows = []
    for n in range(count):
        home, device, kind = devices[n % len(devices)]
        seq = first_seq + n // len(devices)
        payload = {"ts": now.isoformat(), "seq": seq, **FIELDS[kind][0]}
        rows.append((now, now, UUID(home), UUID(device), seq, kind.value, 1.0, payload, False))
    return rows


async def _asyncpg_unnest(dsn: str, rows: list[Row]) -> None:
    columns = [list(column) for column in zip(*rows, strict=True)]
    pool = await create_pool(dsn, min_size=1, max_size=1)
    try:
        async with pool.acquire() as conn:
            for i in range(0, len(rows), _BATCH):
                async with conn.transaction():
                    await queries.store_readings(conn, columns=[c[i : i + _BATCH] for c in columns])
    finally:
        await pool.close()


async def _asyncpg_copy(dsn: str, rows: list[Row]) -> None:
    pool = await create_pool(dsn, min_size=1, max_size=1)
    try:
        async with pool.acquire() as conn:
            for i in range(0, len(rows), _BATCH):
                async with conn.transaction():
                    await _insert_readings(conn, rows=rows[i : i + _BATCH])
    finally:
        await pool.close()


async def _asyncpg_executemany(dsn: str, rows: list[Row]) -> None:
    values = ", ".join(f"${i}" for i in range(1, len(queries.READING_COLUMNS) + 1))
    sql = f"INSERT INTO readings ({_COLUMNS}) VALUES ({values}) ON CONFLICT DO NOTHING"
    pool = await create_pool(dsn, min_size=1, max_size=1)
    try:
        async with pool.acquire() as conn:
            for i in range(0, len(rows), _BATCH):
                async with conn.transaction():
                    await conn.executemany(sql, rows[i : i + _BATCH])
    finally:
        await pool.close()


async def _psycopg_copy(dsn: str, rows: list[Row]) -> None:
    import psycopg
    from psycopg.types.json import set_json_dumps

    async with await psycopg.AsyncConnection.connect(dsn) as conn:
        set_json_dumps(orjson.dumps, context=conn)
        for i in range(0, len(rows), _BATCH):
            async with conn.transaction(), conn.cursor() as cur:
                await cur.execute(STAGE)
                async with cur.copy(f"COPY readings_in ({_COLUMNS}) FROM STDIN (FORMAT BINARY)") as copy:
                    copy.set_types(_PG_TYPES)
                    for row in rows[i : i + _BATCH]:
                        await copy.write_row(row)
                await cur.execute(INSERT_NEW)
                await cur.fetchall()


WRITERS = {
    "asyncpg_unnest": (
        _asyncpg_unnest,
        "asyncpg, one INSERT SELECT FROM unnest(column arrays) ON CONFLICT that also logs the batch"
        " in ingest_batches (ingest)",
    ),
    "asyncpg_copy_staging": (
        _asyncpg_copy,
        "asyncpg binary COPY into temp staging + INSERT SELECT ON CONFLICT",
    ),
    "asyncpg_executemany": (_asyncpg_executemany, "asyncpg executemany INSERT ON CONFLICT DO NOTHING"),
    "psycopg_copy_staging": (
        _psycopg_copy,
        "psycopg 3 binary COPY into temp staging + INSERT SELECT ON CONFLICT",
    ),
}


async def compare_writers(
    dsn: str, devices: Sequence[tuple[str, str, MessageKind]], *, rows: int, rounds: int = 2
) -> dict[str, dict[str, Any]]:
    """The same `rows` readings written each way (fresh seq numbers each time, so all are new)."""
    result: dict[str, dict[str, Any]] = {
        name: {"what": what, "rows": rows, "batch": _BATCH, "runs_rows_per_s": []}
        for name, (_, what) in WRITERS.items()
    }
    for r in range(rounds):
        for k, (name, (write, _)) in enumerate(WRITERS.items()):
            batch = _rows(devices, rows, first_seq=10**12 + (r * len(WRITERS) + k) * 10**7)
            started = time.perf_counter()
            await write(dsn, batch)
            result[name]["runs_rows_per_s"].append(round(rows / (time.perf_counter() - started)))
    for entry in result.values():
        entry["rows_per_s"] = max(entry["runs_rows_per_s"])
    return result


def machine_info(dsn: str, storage: str) -> dict[str, Any]:
    """CPU, cores, memory, versions and the database's durability settings."""
    import psycopg

    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next(
        (x.split(":", 1)[1].strip() for x in cpuinfo if x.startswith("model name")), platform.processor()
    )
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    mem_kb = next(int(x.split()[1]) for x in meminfo if x.startswith("MemTotal"))
    with psycopg.connect(dsn) as conn:
        settings: dict[str, str] = dict(
            conn.execute(
                "SELECT name, setting FROM pg_settings WHERE name IN ('server_version', 'fsync',"
                " 'synchronous_commit', 'full_page_writes', 'shared_buffers', 'track_commit_timestamp')"
            ).fetchall()
        )
    mosquitto = subprocess.run(
        [shutil.which("mosquitto") or "/usr/sbin/mosquitto", "-h"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.splitlines()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(mem_kb / 1024**2, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "postgresql": settings.pop("server_version"),
        "mosquitto": mosquitto[0].removeprefix("mosquitto version ") if mosquitto else "unknown",
        "storage": storage,
        "database_settings": settings,
    }


def proc_status_mb(pid: int, key: str) -> float:
    """VmRSS or VmHWM of a process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return round(int(line.split()[1]) / 1024, 1)
    raise KeyError(key)


def proc_cpu_s(pid: int) -> float:
    """User plus system CPU seconds a process has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def worker_metrics(ports: list[int], pids: list[int]) -> dict[str, float]:
    """Batches, commit time and CPU per message of the workers, from their /metrics and /proc."""
    import httpx

    values: dict[str, float] = {}
    async with httpx.AsyncClient() as http:
        for port in ports:
            text = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
            for line in text.splitlines():
                if line and line[0] != "#":
                    name, value = line.rsplit(" ", 1)
                    values[name] = values.get(name, 0.0) + float(value)
    batches = values.get("telecare_ingest_batch_size_count", 0) or 1
    received = values.get("telecare_ingest_received_total", 0)
    cpu = sum(proc_cpu_s(pid) for pid in pids)
    return {
        "received": received,
        "commits": values.get("telecare_ingest_batch_size_count", 0),
        "mean_batch": round(values.get("telecare_ingest_batch_size_sum", 0) / batches, 1),
        "mean_commit_ms": round(values.get("telecare_ingest_commit_seconds_sum", 0) / batches * 1000, 2),
        "cpu_s": round(cpu, 1),
        "cpu_us_per_message": round(cpu / max(received, 1) * 1e6, 1),
    }


def start_servers(pg: EmbeddedPostgres, broker: EmbeddedMosquitto) -> None:
    """PostgreSQL as configured (durable by default) with commit timestamps tracked, and Mosquitto."""
    import psycopg

    pg.start()
    with psycopg.connect(pg.dsn(), autocommit=True) as conn:
        conn.execute("ALTER SYSTEM SET track_commit_timestamp = on")
    pg.stop()
    pg.start()
    broker.start()


async def register_devices(
    dsn: str, homes: int, kinds: dict[str, MessageKind], pendants: int
) -> tuple[str, list[tuple[str, str, MessageKind]]]:
    """Migrate; one organisation, `homes` homes with a device of each type in `kinds`, and a pendant
    in the first `pendants` homes, inserted directly. Returns the storage and (home, device, kind)s."""
    conn = await asyncpg.connect(dsn)
    try:
        storage = (await migrate(conn)).storage.describe()
        org = await conn.fetchval("INSERT INTO organisations (name) VALUES ('Bench') RETURNING id")
        home_ids = await conn.fetch(
            "INSERT INTO homes (organisation_id, name) SELECT $1, 'Home ' || g"
            " FROM generate_series(1, $2) g RETURNING id",
            org,
            homes,
        )
        wanted = [(h["id"], t) for h in home_ids for t in kinds]
        wanted += [(h["id"], "pendant") for h in home_ids[:pendants]]
        rows = await conn.fetch(
            "INSERT INTO devices (home_id, type) SELECT * FROM unnest($1::uuid[], $2::text[])"
            " RETURNING id, home_id, type",
            [h for h, _ in wanted],
            [t for _, t in wanted],
        )
    finally:
        await conn.close()
    kind = {**kinds, "pendant": MessageKind.ALARM}
    return storage, [(str(r["home_id"]), str(r["id"]), kind[r["type"]]) for r in rows]
