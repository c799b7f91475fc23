"""Which home each device belongs to, cached in memory and refreshed from the registry."""

from __future__ import annotations

import time
from uuid import UUID

import asyncpg

from devices import queries as device_queries


class DeviceDirectory:
    """Device id -> (home id, status); a miss reloads at most once per `min_reload_s`."""

    def __init__(self, pool: asyncpg.Pool, *, min_reload_s: float = 1.0) -> None:
        self._pool = pool
        self._min_reload_s = min_reload_s
        self._routes: dict[UUID, tuple[UUID, str]] = {}
        self._loaded_at = float("-inf")

    async def reload(self) -> None:
        """Read the whole registry again."""
        async with self._pool.acquire() as conn:
            self._routes = await device_queries.device_routes(conn)
        self._loaded_at = time.monotonic()

    async def lookup(self, device_id: UUID) -> tuple[UUID, str] | None:
        """The device's home and status, or None if the registry does not know it."""
        route = self._routes.get(device_id)
        if route is None and time.monotonic() - self._loaded_at >= self._min_reload_s:
            await self.reload()
            route = self._routes.get(device_id)
        return route
