"""The reconnect storm for the benchmark: hubs connecting again all at once, in processes of their own.

Each hub is a session of simulators/storm.py with its own client id, last will and retained presence
on its real topic (so ingest stores its online presence and device health folds it). They all log in
with the benchmark's role: 100,000 dynamic-security clients (one per hub) make the broker rewrite its
whole JSON state on every change, so provisioning them is impractical here; the ACL of a real hub's
identity is tested in tests/devices/test_hubs.py. A process holds at most its file-descriptor limit of
connections, and so does the broker: the storm is as large as the machine's limit allows.
"""

from __future__ import annotations

import asyncio
import resource
import time
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event
from typing import Any

from bench.ingest import load
from simulators.fleet import KIT, device_id, home_id
from simulators.storm import HubLogin, StormResult, reconnect_storm

PER_PROCESS = 9_000


def storm_capacity(requested: int) -> int:
    """How many hub connections this machine holds: the broker's descriptor limit, less a margin."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return min(requested, max(hard, soft) - 500)


def raise_descriptor_limit() -> None:
    """This process may open as many descriptors as its hard limit allows (what it can without root)."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _logins(topic_root: str, first: int, count: int, username: str, password: str) -> list[HubLogin]:
    hub = len(KIT)
    return [
        HubLogin(
            f"hub-{device_id(n, hub)}",
            username,
            password,
            f"{topic_root}/v1/{home_id(n)}/{device_id(n, hub)}/presence",
        )
        for n in range(first, first + count)
    ]


async def _run(
    broker: load.Broker,
    topic_root: str,
    first: int,
    count: int,
    within_s: float,
    stop: Event,
    out: Connection,
) -> None:
    raise_descriptor_limit()
    logins = _logins(topic_root, first, count, broker.username, broker.password)
    hold, result = asyncio.Event(), StormResult()
    storm = asyncio.create_task(
        reconnect_storm(
            broker.host, broker.port, logins, within_s=within_s, hold=hold, result=result, first_seq=10
        )
    )
    while not stop.is_set() and not storm.done():
        await asyncio.sleep(0.2)
    out.send(_figures(result, count))
    hold.set()
    await storm


def _figures(result: StormResult, count: int) -> dict[str, Any]:
    def after(times: list[float]) -> dict[str, float]:
        ordered = sorted(t - result.started for t in times)
        if not ordered:
            return {"n": 0}
        return {
            "n": len(ordered),
            "p50_s": round(ordered[len(ordered) // 2], 2),
            "p99_s": round(ordered[int(len(ordered) * 0.99) - 1 if len(ordered) > 1 else 0], 2),
            "last_s": round(ordered[-1], 2),
        }

    return {
        "hubs": count,
        "connected": after(result.connected),
        "announced": after(result.announced),
        "failed": result.failed,
        "errors": result.errors,
        "at": time.time(),
    }


def _main(
    broker: load.Broker,
    topic_root: str,
    first: int,
    count: int,
    within_s: float,
    stop: Event,
    out: Connection,
) -> None:
    try:
        asyncio.run(_run(broker, topic_root, first, count, within_s, stop, out))
    except Exception as exc:  # reported to the parent
        out.send({"error": f"{type(exc).__name__}: {exc}"})


def start_storm(
    broker: load.Broker, topic_root: str, *, hubs: int, within_s: float, stop: Event
) -> list[load.Child]:
    """Processes that connect `hubs` hubs within `within_s`; each sends its figures once `stop` is set."""
    children = []
    for first in range(0, hubs, PER_PROCESS):
        count = min(PER_PROCESS, hubs - first)
        children.append(load.Child(_main, broker, topic_root, first, count, within_s, stop))
    return children
