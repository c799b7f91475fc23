"""A real uvicorn server for the live-stream tests, and reading its server-sent events."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import orjson

from kernel.db import create_pool
from kernel.embedded.process import free_port
from kernel.settings import Settings
from telecare.services import serve_api
from tests.api.world import World, build_world
from tests.support import wait_for_http


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


@contextlib.asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[Server]:
    """`serve_api` with these settings on a free port, stopped the way Ctrl-C stops it."""
    port = free_port()
    task = asyncio.create_task(
        serve_api(settings.model_copy(update={"api_port": port})), name="api-under-test"
    )
    url = f"http://127.0.0.1:{port}"
    pool = await create_pool(settings.database_url or "", min_size=1, max_size=2)
    try:
        await wait_for_http(url, "/health")
        yield Server(url, pool, await build_world(pool), task)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            async with asyncio.timeout(15):
                await task
        await pool.close()


async def sse_events(response: httpx.Response) -> AsyncIterator[tuple[str, Any]]:
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


async def next_alert(events: AsyncIterator[tuple[str, Any]]) -> dict[str, Any]:
    """The data of the next `alert` event; AssertionError if the stream ends first."""
    async for kind, data in events:
        if kind == "alert":
            body: dict[str, Any] = data
            return body
    raise AssertionError("the stream ended")
