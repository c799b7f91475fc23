"""The alarm phases of the ingest benchmark (issue 11): a busy box, the load average, CPU per process.

- `saturated`: the latency phase's load (readings at the offered rate and an alarm every 200 ms) while
  `HOGS` CPU-bound processes also run (each a `python -c` busy loop that ends by itself after its
  time), so the machine has more runnable work than cores;
- the load average (`os.getloadavg()`, what `uptime` prints) before a phase and sampled during it;
- CPU seconds of the worker's processes (the main worker and its priority lane apart) over a phase.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from bench.ingest import db

HOGS = 2
_HOG = "import time\nend = time.monotonic() + {seconds}\nwhile time.monotonic() < end:\n    pass\n"


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages, as `uptime` shows them."""
    return [round(x, 2) for x in os.getloadavg()]


def children(pid: int) -> list[int]:
    """The direct child processes of `pid` (the priority lane of a worker)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(OSError):
            found += [int(p) for p in task.read_text().split()]
    return found


def cpu_by_part(worker_pids: list[int]) -> dict[str, float]:
    """CPU seconds used so far by the main worker processes and by their priority lanes."""
    lanes = [child for pid in worker_pids for child in children(pid)]
    return {
        "main": sum(_cpu(pid) for pid in worker_pids),
        "lane": sum(_cpu(pid) for pid in lanes),
    }


def _cpu(pid: int) -> float:
    try:
        return db.proc_cpu_s(pid)
    except OSError:
        return 0.0


@contextlib.asynccontextmanager
async def load_sampled(into: dict[str, Any]) -> AsyncIterator[None]:
    """Record the load average before the block and every 5 s during it (max and last)."""
    into["load_average_before"] = load_average()
    samples: list[list[float]] = []

    async def sample() -> None:
        while True:
            await asyncio.sleep(5)
            samples.append(load_average())

    task = asyncio.create_task(sample())
    try:
        yield
    finally:
        task.cancel()
        samples.append(load_average())
        into["load_average_during"] = {
            "max_1min": max(s[0] for s in samples),
            "last": samples[-1],
        }


@contextlib.contextmanager
def cpu_hogs(count: int, seconds: float) -> Any:
    """`count` CPU-bound processes for at most `seconds` (killed on the way out, whatever happens)."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _HOG.format(seconds=seconds)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
        )
        for _ in range(count)
    ]
    try:
        time.sleep(1)  # let them reach the run queue before the load starts
        yield [p.pid for p in procs]
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


def cpu_delta(before: dict[str, float], after: dict[str, float], messages: int) -> dict[str, float]:
    """CPU of each part over a phase: seconds and microseconds per message."""
    out: dict[str, float] = {}
    for part in before:
        spent = after[part] - before[part]
        out[f"{part}_cpu_s"] = round(spent, 2)
        out[f"{part}_cpu_us_per_message"] = round(spent / max(messages, 1) * 1e6, 1)
    return out
