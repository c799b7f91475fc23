"""Fixtures of the console tests: the app with the console, the two-tenant world, people who can log in."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from kernel.settings import Settings
from tests.api.world import World, build_world
from tests.console.helpers import console_app, give_passwords


@dataclass
class Console:
    """The app, a client without a login, its pool and the world in it."""

    app: FastAPI
    client: httpx.AsyncClient
    pool: asyncpg.Pool
    world: World


@pytest.fixture
async def console(settings: Settings) -> AsyncIterator[Console]:
    """The console on this test's database, tenants A and B in it, their people with passwords."""
    async with console_app(settings) as (app, client):
        pool = app.state.resources.pool
        world = await build_world(pool)
        people = [t.coordinator for t in (world.a, world.b)] + [t.family for t in (world.a, world.b)]
        await give_passwords(pool, *people, world.a.carer)
        yield Console(app, client, pool, world)
