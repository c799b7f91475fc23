"""The demo path: a simulated home publishes through the real broker, ingest stores, the API returns it."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import httpx

from api.main import create_app
from kernel.settings import Settings
from simulators.service import SimOptions
from telecare.services import run_ingest, run_simulator
from tests.conftest import ADMIN_TOKEN


async def _motion(client: httpx.AsyncClient, home: object) -> dict[str, Any]:
    response = await client.get(f"/v1/homes/{home}/readings", params={"kind": "motion", "limit": 100})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_simulated_home_reaches_the_readings_endpoint(settings: Settings) -> None:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        subscribed = asyncio.Event()
        ingest = asyncio.create_task(run_ingest(settings, subscribed=subscribed))
        await asyncio.wait_for(subscribed.wait(), 15)
        sim = asyncio.create_task(
            run_simulator(settings, SimOptions(homes=1, profiles=("active",), live=True))
        )
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        try:
            async with httpx.AsyncClient(
                transport=transport, base_url="http://test", headers=headers
            ) as client:
                async with asyncio.timeout(30):
                    while not (homes := (await client.get("/v1/homes")).json()):
                        await asyncio.sleep(0.1)
                    home = homes[0]["id"]
                    while len((page := await _motion(client, home))["items"]) < 20:
                        await asyncio.sleep(0.2)
                devices = (await client.get(f"/v1/homes/{home}/devices")).json()
                missing = await client.get(f"/v1/homes/{devices[0]['device_id']}/readings")
        finally:
            for task in (sim, ingest):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
    assert {item["kind"] for item in page["items"]} == {"motion"}
    item = page["items"][0]
    assert item["received_at"] <= item["stored_at"]
    assert any(d["online"] for d in devices)
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
