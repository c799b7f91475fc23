"""/health and /ready against the real database and broker."""

from __future__ import annotations

import re

import httpx

from api.main import create_app
from kernel.settings import Settings


async def test_ready_reports_database_migrations_broker_and_storage(settings: Settings) -> None:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            assert (await client.get("/health")).json() == {"status": "ok"}
            response = await client.get("/ready")
    body = response.json()
    assert response.status_code == 200, body
    assert body["ready"] and body["database"] and body["migrations_current"] and body["broker"]
    assert body == {
        "ready": True,
        "database": True,
        "migrations_current": True,
        "broker": True,
        "storage": "postgres",
    }
    # Unauthenticated: no version of PostgreSQL, TimescaleDB or the migrations (issue 11).
    assert not re.search(r"\d", response.text)


async def test_ready_is_503_when_the_database_is_gone(settings: Settings) -> None:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        await app.state.resources.pool.close()
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            response = await client.get("/ready")
    assert response.status_code == 503
    assert response.json()["database"] is False
