"""The rules of homes: which home a caller sees or administers; routes call these.

A home outside the caller's scope does not exist for them (NotFound, as a missing one). Who may be put in
a home's circle or among its carers is a rule of accounts (accounts/members.py).
"""

from __future__ import annotations

from uuid import UUID

import asyncpg

from accounts.tenancy import Viewer
from homes import queries
from homes.errors import NotFound


async def visible_home(conn: asyncpg.Connection, caller: Viewer, home_id: UUID) -> asyncpg.Record:
    """The home if the caller's scope sees it; NotFound otherwise (another tenant's home does not exist)."""
    row = await queries.scoped_home(conn, home_id=home_id, scope=caller.scope)
    if row is None:
        raise NotFound(f"home {home_id} not found")
    return row


async def managed_home(conn: asyncpg.Connection, caller: Viewer, home_id: UUID) -> asyncpg.Record:
    """The home if the caller administers its organisation (404 if not visible, 403 if only visible)."""
    row = await visible_home(conn, caller, home_id)
    caller.require_manager(row["organisation_id"])
    return row


async def require_organisation(conn: asyncpg.Connection, organisation_id: UUID) -> None:
    """NotFound unless the organisation exists."""
    if await queries.get_organisation(conn, organisation_id=organisation_id) is None:
        raise NotFound(f"organisation {organisation_id} not found")


async def alert_audience(conn: asyncpg.Connection, home_id: UUID) -> list[asyncpg.Record]:
    """Who may be told about the home's alerts (circle with receives_alerts, its carers, its coordinators)."""
    return await queries.alert_audience(conn, home_id=home_id)


async def alert_audiences(conn: asyncpg.Connection, home_ids: list[UUID]) -> dict[UUID, list[asyncpg.Record]]:
    """alert_audience of several homes at once, by home (a home nobody may be told about maps to [])."""
    found: dict[UUID, list[asyncpg.Record]] = {home_id: [] for home_id in home_ids}
    for row in await queries.alert_audiences(conn, home_ids=list(found)):
        found[row["home_id"]].append(row)
    return found
