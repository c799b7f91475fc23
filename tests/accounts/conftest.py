"""Fixtures of the accounts tests: the app (with tight login throttling), a client, clients from elsewhere."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from fastapi import FastAPI

from kernel.settings import Settings
from tests.api.world import running_app

# Small enough to reach in a few requests; delays long enough that no test depends on its own speed.
FREE_PER_PAIR, FREE_PER_NETWORK, FREE_PER_EMAIL = 2, 5, 8
BASE_DELAY_S, MAX_DELAY_S = 30.0, 240.0
TIGHT = {
    "login_free_failures": FREE_PER_PAIR,
    "login_network_free_failures": FREE_PER_NETWORK,
    "login_email_free_failures": FREE_PER_EMAIL,
    "login_base_delay_s": BASE_DELAY_S,
    "login_max_delay_s": MAX_DELAY_S,
    "scope_cache_s": 0,
}


@pytest.fixture
async def app_client(settings: Settings) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """The app with tight throttling (TIGHT), and a client from 127.0.0.1."""
    async with running_app(settings.model_copy(update=TIGHT)) as running:
        yield running


@pytest.fixture
def client(app_client: tuple[FastAPI, httpx.AsyncClient]) -> httpx.AsyncClient:
    """A client of the app, without credentials."""
    return app_client[1]


@pytest.fixture
async def client_from(
    app_client: tuple[FastAPI, httpx.AsyncClient],
) -> AsyncIterator[Callable[[str], httpx.AsyncClient]]:
    """Clients of the same app whose requests come from a given address."""
    made: list[httpx.AsyncClient] = []

    def make(address: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app_client[0], client=(address, 40000))
        made.append(httpx.AsyncClient(transport=transport, base_url="http://test"))
        return made[-1]

    yield make
    for client in made:
        await client.aclose()
