"""Homes and residents, circles of care and carer assignments, each read through the caller's scope.

The rules are in homes.service (who sees or administers a home) and accounts.members (who may join it)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response

from accounts.members import member_of
from accounts.tenancy import Role
from api import pagination
from api.deps import CallerDep, PoolDep, ResourcesDep
from api.errors import problems
from homes import queries
from homes.errors import NotFound
from homes.schemas import (
    CarerIn,
    CarerOut,
    CircleIn,
    CircleMemberOut,
    HomeIn,
    HomeOut,
    ResidentIn,
    ResidentOut,
)
from homes.service import managed_home, require_organisation, visible_home

router = APIRouter(prefix="/v1", tags=["homes"], responses=problems(401, 403, 404, 422))


@router.post("/organisations/{organisation_id}/homes", response_model=HomeOut, status_code=201)
async def create_home(organisation_id: UUID, body: HomeIn, pool: PoolDep, caller: CallerDep) -> HomeOut:
    """Create a home served by an organisation (its coordinators, or platform admins)."""
    caller.require_manager(organisation_id)
    async with pool.acquire() as conn, conn.transaction():
        await require_organisation(conn, organisation_id)
        home_id = await queries.insert_home(conn, organisation_id=organisation_id, **body.model_dump())
        await caller.audit(
            conn,
            action="home.create",
            target_type="home",
            target_id=home_id,
            organisation_id=organisation_id,
            detail={"name": body.name},
        )
        row = await queries.get_home(conn, home_id=home_id)
    assert row is not None
    return HomeOut.model_validate(dict(row))


@router.get(
    "/homes",
    response_model=list[HomeOut],
    responses={
        200: {
            "headers": {
                "X-Next-Cursor": {
                    "description": "pass as `cursor` for the next page; absent at the end",
                    "schema": {"type": "string"},
                }
            }
        }
    },
)
async def list_homes(
    response: Response,
    pool: PoolDep,
    caller: CallerDep,
    organisation_id: Annotated[UUID | None, Query(description="only this organisation's")] = None,
    cursor: pagination.Cursor = None,
    limit: pagination.Limit = 100,
) -> list[HomeOut]:
    """The homes the caller sees, oldest first; the next page's cursor is in the X-Next-Cursor header."""
    async with pool.acquire() as conn:
        rows = await queries.scoped_homes(
            conn,
            scope=caller.scope,
            organisation_id=organisation_id,
            after=pagination.time_and_id(cursor),
            limit=limit + 1,
        )
    if len(rows) > limit:
        rows = rows[:limit]
        response.headers["X-Next-Cursor"] = pagination.encode(rows[-1]["created_at"], rows[-1]["id"])
    return [HomeOut.model_validate(dict(r)) for r in rows]


@router.get("/homes/{home_id}", response_model=HomeOut)
async def get_home(home_id: UUID, pool: PoolDep, caller: CallerDep) -> HomeOut:
    """One home."""
    async with pool.acquire() as conn:
        row = await visible_home(conn, caller, home_id)
    return HomeOut.model_validate(dict(row))


@router.post("/homes/{home_id}/residents", response_model=ResidentOut, status_code=201)
async def add_resident(home_id: UUID, body: ResidentIn, pool: PoolDep, caller: CallerDep) -> ResidentOut:
    """Add a resident to a home (coordinators)."""
    async with pool.acquire() as conn, conn.transaction():
        home = await managed_home(conn, caller, home_id)
        resident = await queries.insert_resident(conn, home_id=home_id, display_name=body.display_name)
        await caller.audit(
            conn,
            action="resident.create",
            target_type="resident",
            target_id=resident,
            organisation_id=home["organisation_id"],
            detail={"home_id": str(home_id)},
        )
    return ResidentOut(id=resident, home_id=home_id, display_name=body.display_name)


@router.get("/homes/{home_id}/residents", response_model=list[ResidentOut])
async def list_residents(home_id: UUID, pool: PoolDep, caller: CallerDep) -> list[ResidentOut]:
    """A home's residents."""
    async with pool.acquire() as conn:
        await visible_home(conn, caller, home_id)
        rows = await queries.list_residents(conn, home_id=home_id)
    return [ResidentOut(**dict(r)) for r in rows]


@router.post("/homes/{home_id}/circle", response_model=list[CircleMemberOut])
async def put_circle_member(
    home_id: UUID, body: CircleIn, resources: ResourcesDep, caller: CallerDep
) -> list[CircleMemberOut]:
    """Put a family member of the home's organisation in its circle of care (or change their place in it)."""
    user_id = body.user_id
    async with resources.pool.acquire() as conn, conn.transaction():
        home = await managed_home(conn, caller, home_id)
        await member_of(conn, caller, user_id, organisation_id=home["organisation_id"], roles=(Role.FAMILY,))
        await queries.upsert_circle(
            conn,
            home_id=home_id,
            user_id=user_id,
            relationship=body.relationship,
            receives_alerts=body.receives_alerts,
        )
        await caller.audit(
            conn,
            action="circle.put",
            target_type="home",
            target_id=home_id,
            organisation_id=home["organisation_id"],
            detail={
                "user_id": str(user_id),
                "relationship": body.relationship,
                "receives_alerts": body.receives_alerts,
            },
        )
        rows = await queries.list_circle(conn, home_id=home_id)
    resources.gate.forget()
    return [CircleMemberOut.model_validate(dict(r)) for r in rows]


@router.get("/homes/{home_id}/circle", response_model=list[CircleMemberOut])
async def list_circle(home_id: UUID, pool: PoolDep, caller: CallerDep) -> list[CircleMemberOut]:
    """A home's circle of care: family members, their relationship, whether they receive alerts."""
    async with pool.acquire() as conn:
        await visible_home(conn, caller, home_id)
        rows = await queries.list_circle(conn, home_id=home_id)
    return [CircleMemberOut.model_validate(dict(r)) for r in rows]


@router.delete("/homes/{home_id}/circle/{user_id}", status_code=204)
async def remove_circle_member(
    home_id: UUID, user_id: UUID, resources: ResourcesDep, caller: CallerDep
) -> None:
    """Take someone out of the home's circle of care."""
    async with resources.pool.acquire() as conn, conn.transaction():
        home = await managed_home(conn, caller, home_id)
        if not await queries.delete_circle(conn, home_id=home_id, user_id=user_id):
            raise NotFound(f"user {user_id} is not in this home's circle")
        await caller.audit(
            conn,
            action="circle.remove",
            target_type="home",
            target_id=home_id,
            organisation_id=home["organisation_id"],
            detail={"user_id": str(user_id)},
        )
    resources.gate.forget()


@router.post("/homes/{home_id}/carers", response_model=list[CarerOut])
async def assign_carer(
    home_id: UUID, body: CarerIn, resources: ResourcesDep, caller: CallerDep
) -> list[CarerOut]:
    """Assign a carer of the home's organisation to the home."""
    user_id = body.user_id
    async with resources.pool.acquire() as conn, conn.transaction():
        home = await managed_home(conn, caller, home_id)
        await member_of(conn, caller, user_id, organisation_id=home["organisation_id"], roles=(Role.CARER,))
        await queries.insert_assignment(conn, home_id=home_id, user_id=user_id)
        await caller.audit(
            conn,
            action="carer.assign",
            target_type="home",
            target_id=home_id,
            organisation_id=home["organisation_id"],
            detail={"user_id": str(user_id)},
        )
        rows = await queries.list_assignments(conn, home_id=home_id)
    resources.gate.forget()
    return [CarerOut.model_validate(dict(r)) for r in rows]


@router.get("/homes/{home_id}/carers", response_model=list[CarerOut])
async def list_carers(home_id: UUID, pool: PoolDep, caller: CallerDep) -> list[CarerOut]:
    """The carers assigned to a home."""
    async with pool.acquire() as conn:
        await visible_home(conn, caller, home_id)
        rows = await queries.list_assignments(conn, home_id=home_id)
    return [CarerOut.model_validate(dict(r)) for r in rows]


@router.delete("/homes/{home_id}/carers/{user_id}", status_code=204)
async def unassign_carer(home_id: UUID, user_id: UUID, resources: ResourcesDep, caller: CallerDep) -> None:
    """Unassign a carer from a home."""
    async with resources.pool.acquire() as conn, conn.transaction():
        home = await managed_home(conn, caller, home_id)
        if not await queries.delete_assignment(conn, home_id=home_id, user_id=user_id):
            raise NotFound(f"user {user_id} is not assigned to this home")
        await caller.audit(
            conn,
            action="carer.unassign",
            target_type="home",
            target_id=home_id,
            organisation_id=home["organisation_id"],
            detail={"user_id": str(user_id)},
        )
    resources.gate.forget()
