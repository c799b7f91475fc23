"""Liveness and readiness."""

from __future__ import annotations

from typing import Literal

import asyncpg
from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict

from api.deps import ResourcesDep
from kernel.migrate import pending

router = APIRouter(tags=["health"])


class Health(BaseModel):
    """The process is up."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "ok"}]})

    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    """Whether this instance can serve: database, migrations, broker, and which storage it uses."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "ready": True,
                    "database": True,
                    "migrations_current": True,
                    "pending_migrations": [],
                    "broker": True,
                    "storage": "timescaledb 2.17.2",
                },
                {
                    "ready": False,
                    "database": True,
                    "migrations_current": False,
                    "pending_migrations": ["0007_readings_hourly.sql"],
                    "broker": True,
                    "storage": "postgresql 16.4",
                },
            ]
        }
    )

    ready: bool
    database: bool
    migrations_current: bool
    pending_migrations: list[str]
    broker: bool
    storage: str


@router.get("/health", response_model=Health)
async def health() -> Health:
    """The process is up (no dependencies checked)."""
    return Health()


@router.get("/ready", response_model=Readiness, responses={503: {"model": Readiness}})
async def ready(resources: ResourcesDep, response: Response) -> Readiness:
    """Database reachable, migrations current, broker connected, storage mode."""
    database, waiting = False, ["unknown"]
    try:
        async with resources.pool.acquire(timeout=2) as conn:
            await conn.fetchval("SELECT 1")
            database = True
            waiting = await pending(conn)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
        database = False
    broker = resources.mqtt.is_connected
    ok = database and not waiting and broker
    if not ok:
        response.status_code = 503
    return Readiness(
        ready=ok,
        database=database,
        migrations_current=database and not waiting,
        pending_migrations=waiting,
        broker=broker,
        storage=resources.storage.describe(),
    )
