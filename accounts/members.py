"""Which accounts a request may name: outside the caller's tenant a user answers exactly as a missing one.

The tenant check comes before any check that would tell what the user is (their role, whether they are
active): "user X not found" is all another tenant's id ever gets, the same words as for an id that
does not exist.

A family member belongs to one organisation, the care provider that invited them, as a carer does: they
can be put in the circles of care of that organisation's homes only, by its coordinators or by platform
admins. Someone whose relatives are served by two providers has an account with each.
"""

from __future__ import annotations

from uuid import UUID

import asyncpg

from accounts import queries
from accounts import service as accounts
from accounts.errors import InvalidInput, NotFound
from accounts.tenancy import Role, Viewer


def user_not_found(user_id: UUID) -> NotFound:
    """The one answer for a user that does not exist or is another tenant's."""
    return NotFound(f"user {user_id} not found")


def in_tenant(caller: Viewer, organisation_id: UUID | None) -> bool:
    """Whether something of that organisation is in the caller's tenant (platform admins: everything)."""
    own = caller.principal.organisation_id
    return caller.principal.role is Role.PLATFORM_ADMIN or (own is not None and organisation_id == own)


async def visible_user(conn: asyncpg.Connection, caller: Viewer, user_id: UUID) -> accounts.User:
    """The account if the caller may see it: oneself, one's organisation's (coordinators), any (admins)."""
    row = await queries.get_user(conn, user_id=user_id)
    if row is None:
        raise user_not_found(user_id)
    user = accounts.User.from_row(row)
    p = caller.principal
    if p.role is Role.PLATFORM_ADMIN or (p.kind == "user" and p.id == user_id):
        return user
    if p.role is Role.COORDINATOR and in_tenant(caller, user.organisation_id):
        return user
    raise user_not_found(user_id)


async def member_of(
    conn: asyncpg.Connection,
    caller: Viewer,
    user_id: UUID,
    *,
    organisation_id: UUID,
    roles: tuple[Role, ...],
    active: bool = False,
) -> asyncpg.Record:
    """A user of the organisation with one of the roles, named in a change to its home or alert.

    NotFound for a missing user or another tenant's; then InvalidInput for a user of the caller's tenant
    who does not fit (another organisation's, which only platform admins can name; the wrong role;
    inactive when `active` is asked).
    """
    row = await queries.get_user(conn, user_id=user_id)
    if row is None or not in_tenant(caller, row["organisation_id"]):
        raise user_not_found(user_id)
    if row["organisation_id"] != organisation_id:
        raise InvalidInput(f"user {user_id} belongs to another organisation than this one's")
    if row["role"] not in {role.value for role in roles}:
        names = " or ".join("family member" if r is Role.FAMILY else r.value for r in roles)
        raise InvalidInput(f"user {user_id} is not a {names}")
    if active and not row["active"]:
        raise InvalidInput(f"user {user_id} is deactivated")
    return row
