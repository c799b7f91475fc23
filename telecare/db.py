"""The asyncpg connection pool."""

from __future__ import annotations

import asyncpg
import orjson


async def create_pool(dsn: str, *, min_size: int = 2, max_size: int = 10) -> asyncpg.Pool:
    """Open a pool whose connections speak UTC and decode JSON columns as Python objects."""

    async def _init(conn: asyncpg.Connection) -> None:
        # Binary format, so that COPY (which is binary in asyncpg) can carry jsonb too.
        await conn.set_type_codec(
            "jsonb", encoder=_dumps, decoder=_loads, schema="pg_catalog", format="binary"
        )

    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        init=_init,
        server_settings={"timezone": "UTC", "application_name": "telecare"},
    )
    assert pool is not None
    return pool


def _dumps(value: object) -> bytes:
    return b"\x01" + orjson.dumps(value)  # jsonb's binary format: a version byte, then the text


def _loads(value: bytes) -> object:
    return orjson.loads(value[1:])
