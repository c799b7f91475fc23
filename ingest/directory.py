"""Which home each device belongs to (and whether it is a home hub), cached and kept fresh."""

from __future__ import annotations

import time
from collections import OrderedDict
from uuid import UUID

import asyncpg

from devices import queries as device_queries

# (home id, status, is a hub). Every device of a home in one status shares one tuple (see _share):
# a fleet's directory holds a million entries, and a tuple each would be most of the worker's memory.
Route = tuple[UUID, str, bool]


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
        self._shared: dict[Route, Route] = {}

    def _share(self, route: Route) -> Route:
        shared = self._shared.setdefault(route, route)
        if len(self._shared) > 1_000_000:
            self._shared.clear()  # only sharing is lost; every route stays valid
        return shared

    async def reload(self) -> None:
        """Read the whole registry again."""
        async with self._pool.acquire() as conn:
            routes = await device_queries.device_routes(conn)
        now = time.monotonic()
        self._routes = {device: (self._share(route), now) for device, route in routes.items()}
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
        return (await self.lookup_many([device_id])).get(device_id)

    async def lookup_many(self, device_ids: list[UUID]) -> dict[UUID, Route]:
        """The routes of these devices (one query for all not fresh in memory); unknown ones left out."""
        now = time.monotonic()
        found: dict[UUID, Route] = {}
        ask: list[UUID] = []
        for device_id in device_ids:
            cached = self._routes.get(device_id)
            if cached is not None and now - cached[1] < self._ttl_s:
                found[device_id] = cached[0]
            elif cached is not None or now - self._unknown.get(device_id, -1e18) >= self._negative_ttl_s:
                ask.append(device_id)
        if not ask:
            return found
        async with self._pool.acquire() as conn:
            routes = await device_queries.device_routes(conn, device_ids=ask)
        for device_id in ask:
            route = routes.get(device_id)
            if route is None:
                self._forget(device_id, now)
            else:
                found[device_id] = self._share(route)
                self._routes[device_id] = (found[device_id], now)
        return found

    def _forget(self, device_id: UUID, now: float) -> None:
        self._routes.pop(device_id, None)
        self._unknown[device_id] = now
        self._unknown.move_to_end(device_id)
        while len(self._unknown) > 10_000:
            self._unknown.popitem(last=False)
