"""The FastAPI application and its lifespan."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api.errors import install_error_handlers
from api.resources import Resources
from api.routes import contract, health, metrics, readings, registry
from devices.dynsec import DynsecAdmin
from telecare.connect import mqtt_config, require_database_url
from telecare.db import create_pool
from telecare.migrate import migrate
from telecare.mqtt import AsyncMqttClient
from telecare.settings import Settings
from telecare.storage import detect_storage


def create_app(settings: Settings, *, run_migrations: bool = True) -> FastAPI:
    """Build the app; the lifespan opens the pool and the broker connection and closes them at exit.

    The settings must name the database and broker (the runtime fills them in for embedded servers).
    """
    database_url = require_database_url(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = await create_pool(database_url, min_size=settings.db_pool_min, max_size=settings.db_pool_max)
        try:
            async with pool.acquire() as conn:
                report = await migrate(conn, storage=settings.storage) if run_migrations else None
                storage = report.storage if report else await detect_storage(conn)
            client = AsyncMqttClient(mqtt_config(settings, client_id=f"telecare-api-{uuid.uuid4().hex[:8]}"))
            await client.connect()
            dynsec = DynsecAdmin(client)
            await dynsec.start()
            app.state.resources = Resources(settings, pool, client, dynsec, storage)
            try:
                yield
            finally:
                await dynsec.close()
                await client.disconnect()
        finally:
            await pool.close()

    app = FastAPI(
        title="Telecare API",
        version="0.1.0",
        description="Alerts, readings and visit logs for families and care providers.",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(metrics.router)
    app.include_router(contract.router)
    app.include_router(registry.router)
    app.include_router(readings.router)
    return app
