"""The asyncpg connection pool."""

from __future__ import annotations

import asyncpg
import orjson


async def create_pool(
    dsn: str, *, min_size: int = 2, max_size: int = 10, reset_sessions: bool = True
) -> asyncpg.Pool:
    """Open a pool whose connections speak UTC and decode JSON columns as Python objects.

    With reset_sessions off, a released connection skips asyncpg's reset query (RESET ALL, UNLISTEN *,
    CLOSE ALL, advisory unlock): for callers that leave no session state behind.
    """

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
        reset=None if reset_sessions else _keep_session,
        server_settings={"timezone": "UTC", "application_name": "telecare"},
    )
    assert pool is not None
    return pool


async def _keep_session(_conn: asyncpg.Connection) -> None:
    # The pool has already rolled back an open transaction and dropped listener callbacks; the
    # reset query would cost a round trip (and server CPU) on every release.
    return None


def _dumps(value: object) -> bytes:
    return b"\x01" + orjson.dumps(value)  # jsonb's binary format: a version byte, then the text


def _loads(value: bytes) -> object:
    return orjson.loads(value[1:])
