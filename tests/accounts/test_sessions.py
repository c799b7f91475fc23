"""A login ends for its access tokens too: logout, a replayed refresh token and deactivation (via the API).

The API processes here cache verified tokens for 300 s, so only the revocation itself can end them early.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from kernel.settings import Settings
from tests.api.world import build_world, running_app
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, ADMIN_TOKEN

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
def cached(settings: Settings) -> Settings:
    """Settings whose caches outlive every test here."""
    return settings.model_copy(update={"scope_cache_s": 300})


@pytest.fixture
async def client(cached: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A client of one API process."""
    async with running_app(cached) as (_, client):
        yield client


async def _login(client: httpx.AsyncClient) -> dict[str, Any]:
    form = {"grant_type": "password", "username": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
    response = await client.post("/v1/auth/token", data=form)
    assert response.status_code == 200, response.text
    tokens: dict[str, Any] = response.json()
    return tokens


def _bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def test_logout_ends_the_access_token_on_the_next_request(client: httpx.AsyncClient) -> None:
    tokens, other = await _login(client), await _login(client)
    assert (await client.get("/v1/me", headers=_bearer(tokens))).status_code == 200
    out = await client.post("/v1/auth/logout", json={"refresh_token": tokens["refresh_token"]})
    assert out.status_code == 204
    after = await client.get("/v1/me", headers=_bearer(tokens))
    assert after.status_code == 401
    assert "session has ended" in after.json()["detail"]
    # Another login of the same person is not this one.
    assert (await client.get("/v1/me", headers=_bearer(other))).status_code == 200


async def test_a_replayed_refresh_token_ends_every_access_token_of_the_login(
    client: httpx.AsyncClient,
) -> None:
    first = await _login(client)
    rotated = (await client.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})).json()
    for tokens in (first, rotated):
        assert (await client.get("/v1/me", headers=_bearer(tokens))).status_code == 200
    replay = await client.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert replay.status_code == 401
    for tokens in (first, rotated):
        assert (await client.get("/v1/me", headers=_bearer(tokens))).status_code == 401


async def test_a_deactivated_coordinator_is_refused_on_the_next_request(cached: Settings) -> None:
    async with running_app(cached) as (app, client):
        a = (await build_world(app.state.resources.pool)).a
        assert (await client.get("/v1/homes", headers=a.tokens["coordinator"])).status_code == 200
        off = await client.patch(f"/v1/users/{a.coordinator}", json={"active": False}, headers=ADMIN)
        assert off.status_code == 200, off.text
        assert (await client.get("/v1/homes", headers=a.tokens["coordinator"])).status_code == 401


async def _until_refused(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    async with asyncio.timeout(20):
        while (await client.get("/v1/me", headers=headers)).status_code != 401:
            await asyncio.sleep(0.05)


async def test_a_logout_in_one_api_process_reaches_the_others(cached: Settings) -> None:
    async with running_app(cached) as (_, first), running_app(cached) as (_, second):
        tokens = await _login(first)
        assert (await second.get("/v1/me", headers=_bearer(tokens))).status_code == 200
        out = await first.post("/v1/auth/logout", json={"refresh_token": tokens["refresh_token"]})
        assert out.status_code == 204
        # Heard through PostgreSQL's NOTIFY, long before the 300 s cache would let go.
        await _until_refused(second, _bearer(tokens))
