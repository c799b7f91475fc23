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
    """Whether this instance can serve: each dependency up or down, and which storage mode it uses.

    Served without authentication, so it names no version of anything (issue 11): an orchestrator needs
    up or down; `telecare migrate` and the logs tell an operator the rest.
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "ready": True,
                    "database": True,
                    "migrations_current": True,
                    "broker": True,
                    "storage": "timescaledb",
                },
                {
                    "ready": False,
                    "database": True,
                    "migrations_current": False,
                    "broker": True,
                    "storage": "postgres",
                },
            ]
        }
    )

    ready: bool
    database: bool
    migrations_current: bool
    broker: bool
    storage: Literal["timescaledb", "postgres"]


@router.get("/health", response_model=Health)
async def health() -> Health:
    """The process is up (no dependencies checked)."""
    return Health()


@router.get("/ready", response_model=Readiness, responses={503: {"model": Readiness}})
async def ready(resources: ResourcesDep, response: Response) -> Readiness:
    """Database reachable, migrations current, broker connected; the storage mode (no versions)."""
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
        broker=broker,
        storage=resources.storage.mode.value,
    )
