"""Which home each device belongs to, cached in memory and kept fresh from the registry."""

from __future__ import annotations

import time
from collections import OrderedDict
from uuid import UUID

import asyncpg

from devices import queries as device_queries

Route = tuple[UUID, str]


class DeviceDirectory:
    """Device id -> (home id, status).

    A miss asks the registry for that one device, so a device registered a moment ago is known at
    once; unknown ids are remembered briefly so a flood from one cannot hammer the database. Known
    entries are re-read after `ttl_s`, so a status change reaches every worker within that time.
    """

    def __init__(self, pool: asyncpg.Pool, *, ttl_s: float = 30.0, negative_ttl_s: float = 2.0) -> None:
        self._pool = pool
        self._ttl_s = ttl_s
        self._negative_ttl_s = negative_ttl_s
        self._routes: dict[UUID, tuple[Route, float]] = {}
        self._unknown: OrderedDict[UUID, float] = OrderedDict()

    async def reload(self) -> None:
        """Read the whole registry again."""
        async with self._pool.acquire() as conn:
            routes = await device_queries.device_routes(conn)
        now = time.monotonic()
        self._routes = {device: (route, now) for device, route in routes.items()}
        self._unknown.clear()

    def cached(self, device_id: UUID) -> Route | None:
        """The device's route when a fresh one is in memory (no database call); otherwise None: use lookup."""
        cached = self._routes.get(device_id)
        if cached is not None and time.monotonic() - cached[1] < self._ttl_s:
            return cached[0]
        return None

    async def lookup(self, device_id: UUID) -> Route | None:
        """The device's home and status, or None if the registry does not know it."""
        now = time.monotonic()
        cached = self._routes.get(device_id)
        if cached is not None and now - cached[1] < self._ttl_s:
            return cached[0]
        if cached is None and now - self._unknown.get(device_id, float("-inf")) < self._negative_ttl_s:
            return None
        async with self._pool.acquire() as conn:
            row = await conn.fetchrow("SELECT home_id, status FROM devices WHERE id = $1", device_id)
        if row is None:
            self._routes.pop(device_id, None)
            self._unknown[device_id] = now
            self._unknown.move_to_end(device_id)
            while len(self._unknown) > 10_000:
                self._unknown.popitem(last=False)
            return None
        route = (row["home_id"], row["status"])
        self._routes[device_id] = (route, now)
        return route
