"""The live stream through a real uvicorn server: a change on one client reaches another within a second."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import orjson
import pytest

from kernel.db import create_pool
from kernel.embedded.process import free_port
from kernel.settings import Settings
from telecare.services import serve_api
from tests.api.world import World, build_world, raise_alert


@dataclass
class Server:
    """A running API server, its base URL, a pool on its database and the world in it."""

    url: str
    pool: asyncpg.Pool
    world: World
    task: asyncio.Task[None]

    async def stop(self) -> None:
        """Stop the server as Ctrl-C does (cancel serve_api) and wait for it."""
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            async with asyncio.timeout(15):
                await self.task


@pytest.fixture
async def server(settings: Settings) -> AsyncIterator[Server]:
    """`serve_api` on a free port (heartbeats every 0.2 s), stopped the way Ctrl-C stops it."""
    port = free_port()
    live = settings.model_copy(update={"api_port": port, "sse_heartbeat_s": 0.2})
    task = asyncio.create_task(serve_api(live), name="api-under-test")
    url = f"http://127.0.0.1:{port}"
    pool = await create_pool(settings.database_url or "", min_size=1, max_size=2)
    try:
        async with httpx.AsyncClient(base_url=url) as probe, asyncio.timeout(20):
            while True:
                with contextlib.suppress(httpx.TransportError):
                    if (await probe.get("/health")).status_code == 200:
                        break
                await asyncio.sleep(0.05)
        yield Server(url, pool, await build_world(pool), task)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            async with asyncio.timeout(15):
                await task
        await pool.close()


async def _events(response: httpx.Response) -> AsyncIterator[tuple[str, Any]]:
    """(event, data) of each SSE frame; comments come as ('comment', text)."""
    event, data = "message", []
    async for line in response.aiter_lines():
        if line.startswith(":"):
            yield "comment", line[1:].strip()
        elif line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].strip())
        elif not line and data:
            yield event, orjson.loads("\n".join(data))
            event, data = "message", []


async def _next_alert(events: AsyncIterator[tuple[str, Any]]) -> dict[str, Any]:
    async for kind, data in events:
        if kind == "alert":
            body: dict[str, Any] = data
            return body
    raise AssertionError("the stream ended")


async def test_an_acknowledgement_reaches_another_clients_stream_within_a_second(server: Server) -> None:
    a = server.world.a
    async with (
        httpx.AsyncClient(base_url=server.url, timeout=10) as family,
        httpx.AsyncClient(base_url=server.url, timeout=10) as console,
        family.stream("GET", "/v1/alerts/stream", headers=a.tokens["family"]) as stream,
    ):
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        events = _events(stream)
        assert await anext(events) == ("comment", "connected")
        started = time.monotonic()
        acked = await console.post(f"/v1/alerts/{a.alert}/acknowledge", headers=a.tokens["coordinator"])
        assert acked.status_code == 200, acked.text
        async with asyncio.timeout(1):
            change = await _next_alert(events)
        elapsed = time.monotonic() - started
    assert change["action"] == "acknowledged"
    assert change["alert"]["id"] == str(a.alert) and change["alert"]["status"] == "acknowledged"
    assert elapsed < 1


async def test_a_stream_carries_only_what_its_caller_may_see_and_heartbeats(server: Server) -> None:
    a, b = server.world.a, server.world.b
    async with (
        httpx.AsyncClient(base_url=server.url, timeout=10) as client,
        client.stream("GET", "/v1/alerts/stream", headers=a.tokens["family"]) as stream,
    ):
        events = _events(stream)
        assert await anext(events) == ("comment", "connected")
        async with server.pool.acquire() as conn:
            await raise_alert(conn, b.home, key="b")  # another provider's home
            await raise_alert(conn, a.other_home, key="other")  # the same provider, not their home
            mine = await raise_alert(conn, a.home, key="mine")
        seen, heartbeats = [], 0
        async with asyncio.timeout(5):
            async for kind, data in events:
                if kind == "comment":
                    heartbeats += 1
                else:
                    seen.append(data["alert"]["id"])
                if seen and heartbeats >= 2:
                    break
    assert seen == [str(mine)]


async def test_a_family_member_cannot_stream_another_homes_alerts(server: Server) -> None:
    a, b = server.world.a, server.world.b
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        for home in (a.other_home, b.home):
            response = await client.get(f"/v1/alerts/stream?home_id={home}", headers=a.tokens["family"])
            assert response.status_code == 404
        assert (await client.get("/v1/alerts/stream")).status_code == 401


async def test_shutting_down_ends_open_streams_instead_of_waiting_for_them(server: Server) -> None:
    a = server.world.a
    async with (
        httpx.AsyncClient(base_url=server.url, timeout=10) as client,
        client.stream("GET", "/v1/alerts/stream", headers=a.tokens["coordinator"]) as stream,
    ):
        events = _events(stream)
        assert await anext(events) == ("comment", "connected")
        started = time.monotonic()
        stopping = asyncio.create_task(server.stop())
        async with asyncio.timeout(5):
            async for _ in events:
                pass  # heartbeats until the server ends the stream
        await stopping
    assert time.monotonic() - started < 5
    assert server.task.done()
