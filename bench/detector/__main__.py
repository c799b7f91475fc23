"""Detector benchmark (part of `make bench`): throughput and alert latency against a real PostgreSQL.

A writer commits readings the way ingest does (rows plus their `ingest_batches` entry per transaction,
alarms in a transaction of their own). Measured: how fast the detector catches up with a backlog; how
fast the writer goes alone and with the detector running beside it; and, under that load, the time from
an alarm reading's commit to its alert being stored. Results go to docs/bench/detector.json.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import orjson

from anomaly.config import DetectorConfig
from anomaly.service import DetectorService, RuntimeOptions
from bench.batchlog import record_batch
from devices import queries as registry
from homes import queries as home_queries
from kernel.db import create_pool
from kernel.embedded import EmbeddedPostgres
from kernel.embedded.process import free_port
from kernel.migrate import migrate

OUT = Path(__file__).resolve().parents[2] / "docs" / "bench" / "detector.json"
COLUMNS = ("time", "received_at", "home_id", "device_id", "seq", "kind", "value", "payload")
BATCH = 500


class Writer:
    """Commits motion readings in ingest-sized batches, and alarms one by one."""

    def __init__(self, pool: asyncpg.Pool, sensors: list[tuple[uuid.UUID, uuid.UUID]]) -> None:
        self.pool = pool
        self.sensors = sensors
        self.seq = 0
        self.written = 0

    async def batch(self, size: int = BATCH) -> None:
        """One transaction of `size` motion readings."""
        now = datetime.now(UTC)
        rows = []
        for _ in range(size):
            self.seq += 1
            home, device = self.sensors[self.seq % len(self.sensors)]
            rows.append((now, now, home, device, self.seq, "motion", 1.0, {"detected": True}))
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.copy_records_to_table("readings", records=rows, columns=COLUMNS)
            await record_batch(conn, keys=[(r[3], r[4], r[0]) for r in rows])
        self.written += size

    async def alarm(self, home: uuid.UUID, pendant: uuid.UUID) -> None:
        """One alarm press, committed at once as ingest does for priority kinds."""
        self.seq += 1
        seq, now = self.seq, datetime.now(UTC)  # the flood goes on using self.seq while we wait
        row = (now, now, home, pendant, seq, "alarm", 1.0, {"button": "pendant"})
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.copy_records_to_table("readings", records=[row], columns=COLUMNS)
            await record_batch(conn, keys=[(pendant, seq, now)])

    async def flood(self, seconds: float, rate: float | None = None) -> float:
        """Write for `seconds`, flat out or paced to `rate` readings/s; returns readings per second."""
        start, before = time.monotonic(), self.written
        while (elapsed := time.monotonic() - start) < seconds:
            if rate is not None and self.written - before > rate * elapsed:
                await asyncio.sleep(0.005)
                continue
            await self.batch()
        return (self.written - before) / (time.monotonic() - start)


async def _registry(pool: asyncpg.Pool, homes: int) -> tuple[list[Any], list[Any]]:
    sensors, pendants = [], []
    async with pool.acquire() as conn:
        org = await home_queries.insert_organisation(conn, name="Bench")
        for index in range(homes):
            home = await home_queries.insert_home(conn, organisation_id=org, name=f"Home {index}")
            for room in ("kitchen", "lounge", "bedroom", "bathroom"):
                device = await registry.insert_device(
                    conn, home_id=home, device_type="motion_sensor", room=room
                )
                sensors.append((home, device))
            pendants.append((home, await registry.insert_device(conn, home_id=home, device_type="pendant")))
    return sensors, pendants


async def _catch_up(service: DetectorService, writer: Writer, backlog: int) -> dict[str, Any]:
    for _ in range(backlog // BATCH):
        await writer.batch()
    start, before = time.monotonic(), service.readings
    while await service.step():
        pass
    elapsed = time.monotonic() - start
    done = service.readings - before
    return {"backlog_readings": done, "seconds": round(elapsed, 2), "readings_per_s": round(done / elapsed)}


async def _live(
    service: DetectorService, writer: Writer, pendants: list[Any], seconds: float, rate: float
) -> dict[str, Any]:
    """Writer at the ingest rate, detector running, an alarm every 0.5 s; commit-to-alert latency."""
    loop = asyncio.create_task(service.loop())
    before, written = service.readings, writer.written
    try:
        flood = asyncio.create_task(writer.flood(seconds, rate))
        sent = pendants[: int(seconds * 2)]
        for home, pendant in sent:
            await writer.alarm(home, pendant)
            await asyncio.sleep(0.5)
        achieved = await flood
        behind = (writer.written - written + len(sent)) - (service.readings - before)
        async with asyncio.timeout(30):
            while service.alerts_written < len(sent):
                await asyncio.sleep(0.1)
    finally:
        loop.cancel()
        await asyncio.gather(loop, return_exceptions=True)
    async with writer.pool.acquire() as conn:
        lags = [
            float(r["lag"]) * 1000
            for r in await conn.fetch(
                """
                SELECT extract(epoch FROM a.created_at - r.stored_at) AS lag FROM alerts a
                JOIN readings r ON r.device_id = a.device_id AND r.kind = 'alarm'
                WHERE a.kind = 'alarm_pressed'
                """
            )
        ]
    ordered = sorted(lags)
    return {
        "writer_readings_per_s_with_detector": round(achieved),
        "target_readings_per_s": rate,
        "detector_behind_when_writer_stopped": behind,
        "immediate": {
            "count": len(lags),
            "median_ms": round(statistics.median(ordered), 1) if lags else None,
            "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))], 1) if lags else None,
            "max_ms": round(ordered[-1], 1) if lags else None,
            "within_1s": sum(1 for lag in lags if lag < 1000),
            "measured": "alerts.created_at - readings.stored_at: the reading's commit to the alert's",
        },
    }


async def run(dsn: str, homes: int, backlog: int, seconds: float, rate: float) -> dict[str, Any]:
    """All phases against one database."""
    pool = await create_pool(dsn, min_size=2, max_size=6)
    try:
        async with pool.acquire() as conn:
            await migrate(conn)
        sensors, pendants = await _registry(pool, homes)
        writer = Writer(pool, sensors)
        alone = await writer.flood(seconds / 2)
        config = DetectorConfig(default_inactivity_s=timedelta(hours=3).total_seconds())
        service = DetectorService(pool, config, RuntimeOptions(name="bench", poll_s=0.05, tick_s=1.0))
        await service.start()
        catch_up = await _catch_up(service, writer, backlog)
        live = await _live(service, writer, pendants, seconds, rate)
    finally:
        await pool.close()
    return {
        "homes": homes,
        "writer_readings_per_s_alone": round(alone),
        "catch_up": catch_up,
        **live,
        "cpu_count": os.cpu_count(),
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def main() -> None:
    """Start a durable embedded PostgreSQL, run the phases, write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--homes", type=int, default=200)
    parser.add_argument("--backlog", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rate", type=float, default=15_000.0, help="readings/s written in the live phase")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="telecare-detector-bench-"))
    os.chmod(root, 0o755)  # the server runs as postgres when we are root
    pg = EmbeddedPostgres(root / "pg", free_port(), fast_unsafe=False)
    # What the figures were made with, in the file itself, so that nobody credits them to other arguments.
    arguments = {k: v for k, v in vars(args).items() if k != "out"}
    load_before = os.getloadavg()[0]
    try:
        pg.start()
        doc = asyncio.run(run(pg.dsn(), args.homes, args.backlog, args.seconds, args.rate))
    finally:
        pg.stop()
        shutil.rmtree(root, ignore_errors=True)
    doc |= {"arguments": arguments, "load_average_1m_before": round(load_before, 2)}
    doc["load_average_1m_after"] = round(os.getloadavg()[0], 2)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2) + b"\n")
    print(orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode())


if __name__ == "__main__":
    main()
