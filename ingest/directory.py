"""Which home each device belongs to (and whether it is a home hub), cached and kept fresh.

A fleet's worker knows a million devices, so an entry is kept small: the key is the id's integer, and
the value a tuple shared by every device of a home with the same status, type class and heartbeat,
fetched in the same quarter of the cache's lifetime (see `_share`). That is about 150 bytes a device.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import NamedTuple
from uuid import UUID

import asyncpg

from devices import queries as device_queries

# Quarters of the lifetime: an entry is fresh for between 3/4 and all of ttl_s.
_EPOCHS = 4


class Route(NamedTuple):
    """What ingest needs of a registered device."""

    home_id: UUID
    status: str
    hub: bool  # a home hub, which may send batches for its home's devices
    heartbeat_s: float  # its type's heartbeat interval (event-only devices: none, so very long)
    epoch: int  # when it was fetched, in quarters of the cache's lifetime


class DeviceDirectory:
    """Device id -> Route.

    A miss asks the registry (for every missing device of a slice of messages at once, `lookup_many`),
    so a device registered a moment ago is known at once; unknown ids are remembered briefly so a flood
    from one cannot hammer the database. Known entries are re-read after `ttl_s`, so a status change
    reaches every worker within that time.
    """

    def __init__(self, pool: asyncpg.Pool, *, ttl_s: float = 30.0, negative_ttl_s: float = 2.0) -> None:
        self._pool = pool
        self._quantum = ttl_s / _EPOCHS
        self._negative_ttl_s = negative_ttl_s
        self._routes: dict[int, Route] = {}
        self._unknown: OrderedDict[int, float] = OrderedDict()
        self._shared: dict[Route, Route] = {}

    def _epoch(self) -> int:
        return int(time.monotonic() / self._quantum)

    def _share(self, fields: tuple[UUID, str, bool, float], epoch: int) -> Route:
        route = Route(*fields, epoch)
        shared = self._shared.setdefault(route, route)
        if len(self._shared) > 1_000_000:
            self._shared.clear()  # only sharing is lost; every route stays valid
        return shared

    def __len__(self) -> int:
        return len(self._routes)

    async def reload(self) -> None:
        """Read the whole registry again."""
        async with self._pool.acquire() as conn:
            routes = await device_queries.device_routes(conn)
        epoch = self._epoch()
        self._routes = {device.int: self._share(fields, epoch) for device, fields in routes.items()}
        self._unknown.clear()

    def cached(self, device_id: UUID) -> Route | None:
        """The device's route when a fresh one is in memory (no database call); otherwise None: use lookup."""
        route = self._routes.get(device_id.int)
        if route is not None and self._epoch() - route.epoch < _EPOCHS:
            return route
        return None

    def fresh(self) -> Callable[[UUID], Route | None]:
        """`cached` for a slice of messages handled at once (the clock read once, not per message)."""
        oldest, routes = self._epoch() - _EPOCHS, self._routes

        def route_of(device_id: UUID) -> Route | None:
            route = routes.get(device_id.int)
            return route if route is not None and route.epoch > oldest else None

        return route_of

    def heartbeat_s(self, device_id: UUID) -> float | None:
        """The device's heartbeat interval if it is in memory (fresh or not), else None."""
        route = self._routes.get(device_id.int)
        return None if route is None else route.heartbeat_s

    async def lookup(self, device_id: UUID) -> Route | None:
        """The device's route, or None if the registry does not know it."""
        return (await self.lookup_many([device_id])).get(device_id)

    async def lookup_many(self, device_ids: list[UUID]) -> dict[UUID, Route]:
        """The routes of these devices (one query for all not fresh in memory); unknown ones left out."""
        epoch, now = self._epoch(), time.monotonic()
        found: dict[UUID, Route] = {}
        ask: list[UUID] = []
        for device_id in device_ids:
            route = self._routes.get(device_id.int)
            if route is not None and epoch - route.epoch < _EPOCHS:
                found[device_id] = route
            elif route is not None or now - self._unknown.get(device_id.int, -1e18) >= self._negative_ttl_s:
                ask.append(device_id)
        if not ask:
            return found
        async with self._pool.acquire() as conn:
            routes = await device_queries.device_routes(conn, device_ids=ask)
        for device_id in ask:
            fields = routes.get(device_id)
            if fields is None:
                self._forget(device_id.int, now)
            else:
                found[device_id] = self._routes[device_id.int] = self._share(fields, epoch)
        return found

    def _forget(self, key: int, now: float) -> None:
        self._routes.pop(key, None)
        self._unknown[key] = now
        self._unknown.move_to_end(key)
        while len(self._unknown) > 10_000:
            self._unknown.popitem(last=False)
