"""A simulated home publishes through the real broker; the worker stores; the API returns the readings."""

from __future__ import annotations

import asyncio
import contextlib
import random
from typing import Any
from urllib.parse import urlsplit

import httpx

from api.main import create_app
from devices.dynsec import connect_admin
from simulators.service import provision_demo_homes, run_homes
from telecare.connect import mqtt_config
from telecare.services import run_ingest
from telecare.settings import Settings
from tests.conftest import ADMIN_TOKEN


async def _motion(client: httpx.AsyncClient, home: object) -> dict[str, Any]:
    response = await client.get(f"/v1/homes/{home}/readings", params={"kind": "motion"})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_simulated_motion_reaches_the_readings_endpoint(settings: Settings) -> None:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        pool = app.state.resources.pool
        ingest = asyncio.create_task(run_ingest(settings))
        async with connect_admin(mqtt_config(settings, client_id="e2e-admin")) as admin:
            homes = await provision_demo_homes(pool, admin, topic_root=settings.mqtt_topic_root, count=1)
        url = urlsplit(settings.mqtt_url or "")
        sim = asyncio.create_task(
            run_homes(
                homes,
                host=url.hostname or "",
                port=url.port or 0,
                topic_root=settings.mqtt_topic_root,
                interval_s=0.05,
                seed=random.randrange(1000),
            )
        )
        try:
            home = homes[0].home_id
            transport = httpx.ASGITransport(app=app)
            headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
            async with httpx.AsyncClient(
                transport=transport, base_url="http://test", headers=headers
            ) as client:
                async with asyncio.timeout(20):
                    while len((page := await _motion(client, home))["items"]) < 20:
                        await asyncio.sleep(0.1)
                missing = await client.get(f"/v1/homes/{homes[0].devices[0].identity.device_id}/readings")
        finally:
            for task in (sim, ingest):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
    assert len(page["items"]) >= 20
    assert {item["kind"] for item in page["items"]} == {"motion"}
    item = page["items"][0]
    assert item["time"] <= item["received_at"] <= item["stored_at"]
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
