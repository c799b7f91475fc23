"""The live stream through a real uvicorn server: a change on one client reaches another's stream."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from kernel.settings import Settings
from tests.api.live import Server, next_alert, serving, sse_events
from tests.api.world import raise_alert


@pytest.fixture
async def server(settings: Settings) -> AsyncIterator[Server]:
    """A server whose streams send heartbeats every 0.2 s."""
    async with serving(settings.model_copy(update={"sse_heartbeat_s": 0.2})) as running:
        yield running


async def test_an_acknowledgement_reaches_another_clients_stream(server: Server) -> None:
    a = server.world.a
    async with (
        httpx.AsyncClient(base_url=server.url, timeout=10) as family,
        httpx.AsyncClient(base_url=server.url, timeout=10) as console,
        family.stream("GET", "/v1/alerts/stream", headers=a.tokens["family"]) as stream,
    ):
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        events = sse_events(stream)
        assert await anext(events) == ("comment", "connected")
        acked = await console.post(f"/v1/alerts/{a.alert}/acknowledge", headers=a.tokens["coordinator"])
        assert acked.status_code == 200, acked.text
        # How fast is for the benchmarks; here only that it arrives.
        async with asyncio.timeout(20):
            change = await next_alert(events)
    assert change["action"] == "acknowledged"
    assert change["alert"]["id"] == str(a.alert) and change["alert"]["status"] == "acknowledged"


async def test_a_stream_carries_only_what_its_caller_may_see_and_heartbeats(server: Server) -> None:
    a, b = server.world.a, server.world.b
    async with (
        httpx.AsyncClient(base_url=server.url, timeout=10) as client,
        client.stream("GET", "/v1/alerts/stream", headers=a.tokens["family"]) as stream,
    ):
        events = sse_events(stream)
        assert await anext(events) == ("comment", "connected")
        async with server.pool.acquire() as conn:
            await raise_alert(conn, b.home, key="b")  # another provider's home
            await raise_alert(conn, a.other_home, key="other")  # the same provider, not their home
            mine = await raise_alert(conn, a.home, key="mine")
        seen, heartbeats = [], 0
        async with asyncio.timeout(20):
            async for kind, data in events:
                if kind == "comment":
                    heartbeats += 1
                else:
                    seen.append(data["alert"]["id"])
                if seen and heartbeats >= 2:
                    break
    assert seen == [str(mine)]


async def test_a_family_stream_leaves_out_the_providers_working_alerts(server: Server) -> None:
    # A late visit is the provider's (GET /v1/alerts hides it from the family too); a missed one is not.
    a = server.world.a
    async with (
        httpx.AsyncClient(base_url=server.url, timeout=10) as client,
        client.stream("GET", "/v1/alerts/stream", headers=a.tokens["family"]) as family,
        client.stream("GET", "/v1/alerts/stream", headers=a.tokens["coordinator"]) as coordinator,
    ):
        family_events, staff_events = sse_events(family), sse_events(coordinator)
        assert await anext(family_events) == ("comment", "connected")
        assert await anext(staff_events) == ("comment", "connected")
        async with server.pool.acquire() as conn:
            late = await raise_alert(conn, a.home, key="late", kind="visit_late")
            missed = await raise_alert(conn, a.home, key="missed", kind="visit_missed")
        async with asyncio.timeout(20):
            to_family = (await next_alert(family_events))["alert"]["id"]
            to_staff = [(await next_alert(staff_events))["alert"]["id"] for _ in range(2)]
    assert to_family == str(missed)
    assert to_staff == [str(late), str(missed)]


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
        events = sse_events(stream)
        assert await anext(events) == ("comment", "connected")
        stopping = asyncio.create_task(server.stop())
        # Ended by the server, the response finishes cleanly; left to uvicorn's graceful-shutdown
        # timeout it would be cut off, and reading it would raise httpx.RemoteProtocolError.
        async with asyncio.timeout(60):
            async for _ in events:
                pass  # heartbeats until the server ends the stream
        await stopping
    assert server.task.done()
