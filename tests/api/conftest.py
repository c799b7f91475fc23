"""Fixtures of the API tests: the running app with an in-process client, and the two-tenant world."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from kernel.embedded.process import free_port
from kernel.settings import Settings
from tests.api.world import World, build_world, running_app
from tests.conftest import JWT_SECRET
from tests.support import telecare_env


@dataclass
class Api:
    """The app, a client without credentials, its pool and the world in it."""

    app: FastAPI
    client: httpx.AsyncClient
    pool: asyncpg.Pool
    world: World


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[Api]:
    """The app on this test's database, with tenants A and B in it."""
    async with running_app(settings) as (app, client):
        pool = app.state.resources.pool
        yield Api(app, client, pool, await build_world(pool))


@pytest.fixture
async def api_process(settings: Settings) -> AsyncIterator[str]:
    """`telecare api` on a free port against this test's database and broker; its base URL."""
    port = free_port()
    env = telecare_env(settings, TELECARE_JWT_SECRET=JWT_SECRET, TELECARE_API_PORT=str(port))
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "telecare.cli", "api", env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=url) as probe, asyncio.timeout(30):
            while True:
                with contextlib.suppress(httpx.TransportError):
                    if (await probe.get("/ready")).status_code == 200:
                        break
                await asyncio.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        await proc.wait()
