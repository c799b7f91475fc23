"""Fixtures of the accounts tests: the app (with tight login limits) and a client."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from kernel.settings import Settings
from tests.api.world import running_app


@pytest.fixture
async def app_client(settings: Settings) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """The app with at most 3 failed logins per account and 6 per address, and a client."""
    tight = settings.model_copy(
        update={"login_max_per_user": 3, "login_max_per_address": 6, "scope_cache_s": 0}
    )
    async with running_app(tight) as running:
        yield running


@pytest.fixture
def client(app_client: tuple[FastAPI, httpx.AsyncClient]) -> httpx.AsyncClient:
    """A client of the app, without credentials."""
    return app_client[1]
