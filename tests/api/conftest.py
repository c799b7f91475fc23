"""Fixtures of the API tests: the running app with an in-process client, and the two-tenant world."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from kernel.settings import Settings
from tests.api.world import World, build_world, running_app


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
