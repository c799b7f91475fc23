"""The rules of homes: which home a caller sees or administers, and who may join a home's circle or carers.

Routes call these; a home outside the caller's scope does not exist for them (NotFound, as a missing one).
"""

from __future__ import annotations

from uuid import UUID

import asyncpg

from accounts import queries as account_queries
from accounts.tenancy import Role, Viewer
from homes import queries
from homes.errors import InvalidInput, NotFound


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


async def require_member(conn: asyncpg.Connection, user_id: UUID, role: Role) -> None:
    """NotFound unless the user exists; InvalidInput unless they have the role (family: circle, carer)."""
    row = await account_queries.get_user(conn, user_id=user_id)
    if row is None:
        raise NotFound(f"user {user_id} not found")
    if row["role"] != role.value:
        raise InvalidInput(f"user {user_id} is not a {role.value}")


async def require_assignable_carer(conn: asyncpg.Connection, user_id: UUID, home: asyncpg.Record) -> None:
    """A carer may be assigned only to a home of their own organisation (another's: NotFound)."""
    await require_member(conn, user_id, Role.CARER)
    carer = await account_queries.get_user(conn, user_id=user_id)
    if carer is None or carer["organisation_id"] != home["organisation_id"]:
        raise NotFound(f"user {user_id} not found")
