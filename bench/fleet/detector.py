"""The detector on the fleet, in a process of its own: what it keeps up with, what a checkpoint costs,
and its memory per home.

It is the product's DetectorService; the subclass only times each checkpoint (`_write`: the alerts,
the changed homes' states and the cursor in one transaction) and counts the homes it wrote.
"""

from __future__ import annotations

import asyncio
import os
import time
import tracemalloc
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any
from uuid import uuid4

from anomaly.config import DetectorConfig
from anomaly.model import Action
from anomaly.service import DetectorService, RuntimeOptions
from anomaly.state import Day, HomeState
from bench.ingest import load
from kernel.db import create_pool


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


class TimedDetector(DetectorService):
    """The detector runtime, with each checkpoint timed."""

    checkpoints: list[tuple[int, float]]

    async def _write(self, actions: list[Action]) -> None:
        homes = len(self.detector.dirty)
        started = time.perf_counter()
        await super()._write(actions)
        self.checkpoints.append((homes, time.perf_counter() - started))


def learned_home_bytes(days: int = 40, homes: int = 200) -> int:
    """Bytes of one home's state with a full baseline (`days` finished days of varied figures)."""
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    states = []
    for h in range(homes):
        st = HomeState(uuid4())
        st.baseline.days = [
            Day(d, gaps=[float(h + d + i) for i in range(24)], sit_gaps=[float(i) for i in range(24)],
                rooms={"kitchen": d, "lounge": h, "bedroom": 3}, door_hours=[i % 3 for i in range(24)],
                wake=400.0 + d, bed=1300.0 + h, activity=200 + d)
            for d in range(days)
        ]  # fmt: skip
        st.links = {str(uuid4()): [1.0 * h, 0.0, 0.0] for _ in range(12)}
        states.append(st)
    used = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    return used // homes


async def _run(dsn: str, stop: Event, out: Connection) -> None:
    pool = await create_pool(dsn, min_size=1, max_size=3)
    try:
        service = TimedDetector(pool, DetectorConfig(), RuntimeOptions(name="bench-fleet"))
        service.checkpoints = []
        rss_empty = _rss_mb()
        started = time.perf_counter()
        await service.start()
        start_s = time.perf_counter() - started
        rss_loaded = _rss_mb()
        homes = len(service.detector.homes)
        out.send({"ready": True})
        lags: list[float] = []
        rss: list[float] = []
        next_sample = 0.0
        while not stop.is_set():
            busy = await service.step()
            if time.monotonic() >= next_sample:
                next_sample = time.monotonic() + 5
                rss.append(_rss_mb())
                async with pool.acquire() as conn:
                    newest = await conn.fetchval("SELECT max(committed_at) FROM ingest_batches")
                    cursor = await conn.fetchval(
                        "SELECT updated_at FROM detector_cursors WHERE name = $1", service.cursor_name
                    )
                if newest is not None and cursor is not None:
                    lags.append(max(0.0, (newest - cursor).total_seconds()))
            if not busy:
                await asyncio.sleep(service.options.poll_s)
        rss_loaded_after = _rss_mb()
        cps = service.checkpoints
        out.send(
            {
                "homes": homes,
                "devices": len(service.detector.devices),
                "start_s": round(start_s, 1),
                "readings_fed": service.readings,
                "alerts_written": service.alerts_written,
                "checkpoints": len(cps),
                "checkpoint_ms": _spread([s * 1000 for _, s in cps]),
                "checkpoint_homes": _spread([float(n) for n, _ in cps]),
                "cursor_behind_s": _spread(lags),
                "rss_mb": {
                    "empty": rss_empty,
                    "loaded": rss_loaded,
                    "max": max(rss or [0.0]),
                    "end": rss_loaded_after,
                },
                "bytes_per_home_loaded": int((rss_loaded - rss_empty) * 1024**2 / max(homes, 1)),
                "bytes_per_home_learned_40_days": learned_home_bytes(),
                "pid": os.getpid(),
            }
        )
    finally:
        await pool.close()


def _spread(values: list[float]) -> dict[str, float]:
    if not values:
        return {"n": 0}
    ordered = sorted(values)
    return {
        "n": len(ordered),
        "p50": round(ordered[len(ordered) // 2], 1),
        "p99": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 1),
        "max": round(ordered[-1], 1),
        "mean": round(sum(ordered) / len(ordered), 1),
    }


def _main(dsn: str, stop: Event, out: Connection) -> None:
    try:
        asyncio.run(_run(dsn, stop, out))
    except Exception as exc:  # reported to the parent
        out.send({"error": f"{type(exc).__name__}: {exc}"})


def start_detector(dsn: str, stop: Event) -> load.Child:
    """The detector process: it sends {"ready": True} once started, then its figures once `stop` is set."""
    return load.Child(_main, dsn, stop)


def summary(result: dict[str, Any], readings_per_s: float) -> dict[str, Any]:
    """The detector's headline figures."""
    return {"offered_readings_per_s": readings_per_s, **result}
