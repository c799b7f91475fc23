"""An open live stream lasts no longer than the right to it (issue 11, finding 1), through a real uvicorn.

Each test opens a stream, withdraws the right to it the way an operator or the person would, then raises
a new alert in the home and checks that the stream ends (with an `end` event saying why) or no longer
carries that home. The servers cache access for 300 s unless said otherwise: only the withdrawal itself,
heard by the stream, can stop it in time.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import httpx
import jwt
import pytest

from homes import queries as home_queries
from kernel.settings import Settings
from tests.api.live import Server, serving, sse_events
from tests.api.world import bearer, raise_alert
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD

Events = AsyncIterator[tuple[str, Any]]


@pytest.fixture
async def server(settings: Settings) -> AsyncIterator[Server]:
    """A server whose caches of tokens, keys and homes outlive every test here."""
    async with serving(settings.model_copy(update={"scope_cache_s": 300})) as running:
        yield running


@asynccontextmanager
async def _stream(server: Server, headers: dict[str, str], query: str = "") -> AsyncIterator[Events]:
    async with (
        httpx.AsyncClient(base_url=server.url, timeout=30) as client,
        client.stream("GET", f"/v1/alerts/stream{query}", headers=headers) as response,
    ):
        assert response.status_code == 200
        events = sse_events(response)
        assert await anext(events) == ("comment", "connected")
        yield events


async def _outcome(events: Events, *, stop_at: UUID) -> tuple[list[str], dict[str, Any] | None]:
    """Alert ids the stream carried until `stop_at` came or it ended; the `end` event's data, if any."""
    seen: list[str] = []
    async with asyncio.timeout(60):
        async for kind, data in events:
            if kind == "end":
                return seen, data
            if kind == "alert":
                seen.append(data["alert"]["id"])
                if data["alert"]["id"] == str(stop_at):
                    break
    return seen, None


async def _call(server: Server, method: str, path: str, headers: dict[str, str], **body: Any) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        response = await client.request(method, path, headers=headers, **body)
    assert response.is_success, response.text


async def _login(server: Server) -> dict[str, Any]:
    form = {"grant_type": "password", "username": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        response = await client.post("/v1/auth/token", data=form)
    assert response.status_code == 200, response.text
    tokens: dict[str, Any] = response.json()
    return tokens


async def _raise(server: Server, home: UUID, key: str) -> UUID:
    async with server.pool.acquire() as conn:
        return await raise_alert(conn, home, key=key)


async def _in_two_circles(server: Server) -> None:
    # Tenant A's family member also follows the provider's second home: the stream stays useful.
    async with server.pool.acquire() as conn:
        await home_queries.upsert_circle(
            conn,
            home_id=server.world.a.other_home,
            user_id=server.world.a.family,
            relationship="daughter",
            receives_alerts=True,
        )


async def test_removed_from_a_circle_the_stream_stops_carrying_that_home(server: Server) -> None:
    a = server.world.a
    await _in_two_circles(server)
    async with _stream(server, a.tokens["family"]) as events:
        await _call(server, "DELETE", f"/v1/homes/{a.home}/circle/{a.family}", a.tokens["coordinator"])
        gone = await _raise(server, a.home, "after-removal")
        still = await _raise(server, a.other_home, "still-followed")
        seen, end = await _outcome(events, stop_at=still)
    assert end is None and seen == [str(still)], (seen, gone)


async def test_a_stream_of_one_home_ends_when_that_home_leaves_the_callers_scope(server: Server) -> None:
    a = server.world.a
    await _in_two_circles(server)
    async with _stream(server, a.tokens["family"], f"?home_id={a.home}") as events:
        await _call(server, "DELETE", f"/v1/homes/{a.home}/circle/{a.family}", a.tokens["coordinator"])
        gone = await _raise(server, a.home, "after-removal")
        seen, end = await _outcome(events, stop_at=gone)
    assert seen == [] and end is not None and "no longer visible" in end["reason"]


async def test_a_deactivated_carers_stream_ends(server: Server) -> None:
    a = server.world.a
    async with _stream(server, a.tokens["carer"]) as events:
        off = {"json": {"active": False}}
        await _call(server, "PATCH", f"/v1/users/{a.carer}", a.tokens["coordinator"], **off)
        gone = await _raise(server, a.home, "after-deactivation")
        seen, end = await _outcome(events, stop_at=gone)
    assert seen == [] and end is not None and "session has ended" in end["reason"]


async def test_a_revoked_api_keys_stream_ends(server: Server) -> None:
    a = server.world.a
    async with _stream(server, a.tokens["integration"]) as events:
        await _call(server, "POST", f"/v1/api-keys/{a.api_key_id}/revoke", a.tokens["coordinator"])
        gone = await _raise(server, a.home, "after-revocation")
        seen, end = await _outcome(events, stop_at=gone)
    assert seen == [] and end is not None and "API key is not valid" in end["reason"]


async def test_a_logged_out_sessions_stream_ends(server: Server) -> None:
    tokens = await _login(server)
    async with _stream(server, bearer(tokens["access_token"])) as events:
        logout = {"json": {"refresh_token": tokens["refresh_token"]}}
        await _call(server, "POST", "/v1/auth/logout", {}, **logout)
        gone = await _raise(server, server.world.a.home, "after-logout")
        seen, end = await _outcome(events, stop_at=gone)
    assert seen == [] and end is not None and "session has ended" in end["reason"]


async def test_a_stream_ends_when_the_access_token_that_opened_it_expires(settings: Settings) -> None:
    # Access tokens of 6 s; caches longer than that, so only the token's own expiry ends the stream.
    short = settings.model_copy(update={"access_token_minutes": 0.1, "scope_cache_s": 300})
    async with serving(short) as server:
        tokens = await _login(server)
        expires = jwt.decode(tokens["access_token"], options={"verify_signature": False})["exp"]
        async with _stream(server, bearer(tokens["access_token"])) as events:
            async with asyncio.timeout(60):
                while datetime.now(UTC).timestamp() <= expires:
                    await asyncio.sleep(0.1)
            late = await _raise(server, server.world.a.home, "after-expiry")
            seen, end = await _outcome(events, stop_at=late)
    assert seen == [] and end is not None and "expired" in end["reason"]


async def test_a_circle_changed_elsewhere_narrows_the_stream_within_the_cache_time(
    settings: Settings,
) -> None:
    # The change is made in the database, as another API process would: this one learns it only when
    # its one-second cache is stale, and the stream must check before it sends anything more.
    async with serving(settings.model_copy(update={"scope_cache_s": 1})) as server:
        a = server.world.a
        await _in_two_circles(server)
        async with _stream(server, a.tokens["family"]) as events:
            async with server.pool.acquire() as conn:
                await conn.execute(
                    "DELETE FROM care_circles WHERE home_id = $1 AND user_id = $2", a.home, a.family
                )
            async with httpx.AsyncClient(base_url=server.url, timeout=30) as client, asyncio.timeout(60):
                # This process has let go of the old homes once /v1/me no longer shows them.
                while (
                    str(a.home) in (await client.get("/v1/me", headers=a.tokens["family"])).json()["home_ids"]
                ):
                    await asyncio.sleep(0.1)
            gone = await _raise(server, a.home, "after-removal")
            still = await _raise(server, a.other_home, "still-followed")
            seen, end = await _outcome(events, stop_at=still)
    assert end is None and seen == [str(still)], (seen, gone)
