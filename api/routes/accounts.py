"""Organisations, users and invitations, API keys, and the audit log."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from accounts import queries
from accounts import service as accounts
from accounts.errors import Forbidden, InvalidInput, NotFound
from accounts.members import in_tenant, visible_user
from accounts.schemas import (
    ActiveIn,
    ApiKeyCreated,
    ApiKeyIn,
    ApiKeyOut,
    AuditOut,
    AuditPage,
    InvitationIn,
    InvitationOut,
    UserOut,
    UserPage,
)
from accounts.tenancy import Role
from api import pagination
from api.deps import AuthDep, CallerDep, PoolDep, ResourcesDep
from api.errors import problems
from api.security import Caller
from homes import queries as home_queries
from homes.schemas import OrganisationIn, OrganisationOut

router = APIRouter(prefix="/v1", tags=["accounts"], responses=problems(401, 403, 404, 422))

OptionalOrganisation = Annotated[UUID | None, Query(description="only this organisation's")]


@router.post("/organisations", response_model=OrganisationOut, status_code=201)
async def create_organisation(body: OrganisationIn, pool: PoolDep, caller: CallerDep) -> OrganisationOut:
    """Create a care-provider organisation (platform admins)."""
    caller.require_role(Role.PLATFORM_ADMIN)
    async with pool.acquire() as conn, conn.transaction():
        org_id = await home_queries.insert_organisation(conn, name=body.name)
        row = await home_queries.get_organisation(conn, organisation_id=org_id)
        await caller.audit(
            conn,
            action="organisation.create",
            target_type="organisation",
            target_id=org_id,
            organisation_id=org_id,
            detail={"name": body.name},
        )
    assert row is not None
    return OrganisationOut.model_validate(dict(row))


@router.get("/organisations", response_model=list[OrganisationOut])
async def list_organisations(pool: PoolDep, caller: CallerDep) -> list[OrganisationOut]:
    """Organisations the caller belongs to (platform admins: all, oldest first)."""
    own = None if caller.principal.role is Role.PLATFORM_ADMIN else caller.principal.organisation_id
    if own is None and caller.principal.role is not Role.PLATFORM_ADMIN:
        return []
    async with pool.acquire() as conn:
        rows = await home_queries.list_organisations(conn, only=own)
    return [OrganisationOut.model_validate(dict(r)) for r in rows]


@router.get("/organisations/{organisation_id}", response_model=OrganisationOut)
async def get_organisation(organisation_id: UUID, pool: PoolDep, caller: CallerDep) -> OrganisationOut:
    """One organisation (the caller's own; platform admins: any)."""
    caller.require_organisation(organisation_id)
    async with pool.acquire() as conn:
        row = await home_queries.get_organisation(conn, organisation_id=organisation_id)
    if row is None:
        raise NotFound(f"organisation {organisation_id} not found")
    return OrganisationOut.model_validate(dict(row))


def _users_organisation(caller: Caller, organisation_id: UUID | None) -> UUID | None:
    if caller.principal.role is Role.PLATFORM_ADMIN:
        return organisation_id
    caller.require_role(Role.COORDINATOR)
    own = caller.principal.organisation_id
    if organisation_id is not None and organisation_id != own:
        raise NotFound(f"organisation {organisation_id} not found")
    return own


@router.get("/users", response_model=UserPage)
async def list_users(
    pool: PoolDep,
    caller: CallerDep,
    organisation_id: OptionalOrganisation = None,
    cursor: pagination.Cursor = None,
    limit: pagination.Limit = 50,
) -> UserPage:
    """Accounts, oldest first: a coordinator's organisation's, or (platform admins) any."""
    org = _users_organisation(caller, organisation_id)
    async with pool.acquire() as conn:
        rows = await queries.list_users(
            conn, organisation_id=org, after=pagination.time_and_id(cursor), limit=limit + 1
        )
    more = len(rows) > limit
    rows = rows[:limit]
    following = pagination.encode(rows[-1]["created_at"], rows[-1]["id"]) if more else None
    return UserPage(items=[UserOut.model_validate(dict(r)) for r in rows], next_cursor=following)


@router.get("/users/{user_id}", response_model=UserOut)
async def get_user(user_id: UUID, pool: PoolDep, caller: CallerDep) -> UserOut:
    """One account: oneself, an account of one's organisation (coordinators), or any (platform admins)."""
    async with pool.acquire() as conn:
        user = await visible_user(conn, caller, user_id)
    return UserOut.model_validate(user, from_attributes=True)


@router.patch("/users/{user_id}", response_model=UserOut)
async def set_user_active(
    user_id: UUID, body: ActiveIn, resources: ResourcesDep, caller: CallerDep
) -> UserOut:
    """Deactivate an account (ending its logins) or reactivate it (coordinators of its organisation)."""
    async with resources.pool.acquire() as conn, conn.transaction():
        user = await visible_user(conn, caller, user_id)
        if caller.principal.role is not Role.PLATFORM_ADMIN:
            if user.organisation_id is None or user.role == Role.PLATFORM_ADMIN.value:
                raise Forbidden("only platform admins may change this account")
            caller.require_manager(user.organisation_id)
        user = await accounts.set_active(conn, user_id=user_id, active=body.active)
        await caller.audit(
            conn,
            action="user.activate" if body.active else "user.deactivate",
            target_type="user",
            target_id=user_id,
            organisation_id=user.organisation_id,
        )
    resources.gate.forget()
    return UserOut.model_validate(user, from_attributes=True)


@router.post("/invitations", response_model=InvitationOut, status_code=201, responses=problems(409))
async def invite(body: InvitationIn, pool: PoolDep, config: AuthDep, caller: CallerDep) -> InvitationOut:
    """Create an account and an invitation token to set its password (coordinators: their organisation's)."""
    role, org = Role(body.role), body.organisation_id
    if caller.principal.role is not Role.PLATFORM_ADMIN:
        caller.require_role(Role.COORDINATOR)
        if role is Role.PLATFORM_ADMIN:
            raise Forbidden("only platform admins may invite platform admins")
        org = org or caller.principal.organisation_id
        assert org is not None
        caller.require_manager(org)
    if role is Role.PLATFORM_ADMIN and org is not None:
        raise InvalidInput("a platform admin belongs to no organisation")
    role_of_caller, caller_org = caller.principal.role, caller.principal.organisation_id
    async with pool.acquire() as conn, conn.transaction():
        user, token, expires = await accounts.invite(
            conn,
            lifetime=config.invitation_lifetime,
            email=body.email,
            name=body.name,
            role=role,
            organisation_id=org,
            by=caller.principal.id,
            # Platform admins see every account, a coordinator those of their organisation.
            reveal=lambda owner: role_of_caller is Role.PLATFORM_ADMIN or owner == caller_org,
        )
        await caller.audit(
            conn,
            action="user.invite",
            target_type="user",
            target_id=user.id,
            organisation_id=org,
            detail={"email": user.email, "role": role.value},
        )
    return InvitationOut(
        user=UserOut.model_validate(user, from_attributes=True), token=token, expires_at=expires
    )


@router.post("/organisations/{organisation_id}/api-keys", response_model=ApiKeyCreated, status_code=201)
async def create_api_key(
    organisation_id: UUID, body: ApiKeyIn, pool: PoolDep, caller: CallerDep
) -> ApiKeyCreated:
    """A new API key for an integration of the organisation; the key is shown this once."""
    caller.require_manager(organisation_id)
    async with pool.acquire() as conn, conn.transaction():
        row, key = await accounts.create_api_key(
            conn, organisation_id=organisation_id, name=body.name, by=caller.principal.id
        )
        await caller.audit(
            conn,
            action="api_key.create",
            target_type="api_key",
            target_id=row["id"],
            organisation_id=organisation_id,
            detail={"name": body.name},
        )
    return ApiKeyCreated(**dict(row), key=key)


@router.get("/organisations/{organisation_id}/api-keys", response_model=list[ApiKeyOut])
async def list_api_keys(organisation_id: UUID, pool: PoolDep, caller: CallerDep) -> list[ApiKeyOut]:
    """The organisation's API keys (revoked ones too)."""
    caller.require_manager(organisation_id)
    async with pool.acquire() as conn:
        rows = await queries.list_api_keys(conn, organisation_id=organisation_id)
    return [ApiKeyOut.model_validate(dict(r)) for r in rows]


@router.post("/api-keys/{key_id}/revoke", response_model=ApiKeyOut)
async def revoke_api_key(key_id: UUID, resources: ResourcesDep, caller: CallerDep) -> ApiKeyOut:
    """Revoke an API key: every API process refuses it within a few seconds (TELECARE_SCOPE_CACHE_S)."""
    async with resources.pool.acquire() as conn, conn.transaction():
        row = await queries.get_api_key_by_id(conn, key_id=key_id)
        if row is None or not in_tenant(caller, row["organisation_id"]):
            raise NotFound(f"API key {key_id} not found")
        caller.require_manager(row["organisation_id"])
        await queries.revoke_api_key(conn, key_id=key_id)
        await caller.audit(
            conn,
            action="api_key.revoke",
            target_type="api_key",
            target_id=key_id,
            organisation_id=row["organisation_id"],
        )
        row = await queries.get_api_key_by_id(conn, key_id=key_id)
    assert row is not None
    resources.gate.forget()
    return ApiKeyOut.model_validate(dict(row))


@router.get("/audit", response_model=AuditPage)
async def audit_log(
    pool: PoolDep,
    caller: CallerDep,
    organisation_id: OptionalOrganisation = None,
    cursor: pagination.Cursor = None,
    limit: pagination.Limit = 50,
) -> AuditPage:
    """Changes people and integrations made, newest first: a coordinator's organisation's, or any."""
    org = _users_organisation(caller, organisation_id)
    async with pool.acquire() as conn:
        rows = await queries.list_audit(
            conn, organisation_id=org, before_id=pagination.serial(cursor), limit=limit + 1
        )
    more = len(rows) > limit
    rows = rows[:limit]
    return AuditPage(
        items=[AuditOut.model_validate(dict(r)) for r in rows],
        next_cursor=pagination.encode(rows[-1]["id"]) if more else None,
    )
