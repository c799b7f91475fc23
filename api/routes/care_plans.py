"""Care plans (recurring visits, one-off changes, pauses), carers' NFC tags and skills, for coordinators.

The rules are in visits.plans and visits.service; every change is audited in its transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Body

from api.deps import CallerDep, PoolDep, SettingsDep
from api.errors import problems
from homes.service import managed_home
from visits import examples, plan_queries, plans, tag_queries
from visits import service as visits
from visits.plan_schemas import PlanChangeIn, PlanIn, PlanOut
from visits.schemas import SkillsIn, TagIn, TagOut

router = APIRouter(prefix="/v1", tags=["care plans"], responses=problems(401, 403, 404, 422))


def _now() -> datetime:
    return datetime.now(UTC)


@router.post("/homes/{home_id}/care-plans", response_model=PlanOut, status_code=201)
async def create_plan(
    home_id: UUID, body: PlanIn, pool: PoolDep, caller: CallerDep, settings: SettingsDep
) -> PlanOut:
    """Set up a home's care plan; its visits are materialised for the coming weeks at once."""
    async with pool.acquire() as conn, conn.transaction():
        plan = await plans.create_plan(
            conn, caller, home_id=home_id, body=body, now=_now(), horizon_days=settings.visits_horizon_days
        )
        await caller.audit(
            conn,
            action="care_plan.create",
            target_type="care_plan",
            target_id=plan["id"],
            organisation_id=plan["organisation_id"],
            detail={"home_id": str(home_id), "name": body.name, "visits": len(body.visits)},
        )
        view = await plans.plan_view(conn, plan)
    return PlanOut.model_validate(view)


@router.get("/homes/{home_id}/care-plans", response_model=list[PlanOut])
async def list_plans(home_id: UUID, pool: PoolDep, caller: CallerDep) -> list[PlanOut]:
    """A home's care plans, oldest first (coordinators)."""
    async with pool.acquire() as conn:
        await managed_home(conn, caller, home_id)
        rows = await plan_queries.home_plans(conn, home_id=home_id)
        views = [await plans.plan_view(conn, r) for r in rows]
    return [PlanOut.model_validate(v) for v in views]


@router.get("/care-plans/{plan_id}", response_model=PlanOut)
async def get_plan(plan_id: UUID, pool: PoolDep, caller: CallerDep) -> PlanOut:
    """One care plan with its recurring visits and changes (coordinators)."""
    async with pool.acquire() as conn:
        plan = await plans.managed_plan(conn, caller, plan_id)
        view = await plans.plan_view(conn, plan)
    return PlanOut.model_validate(view)


@router.post("/care-plans/{plan_id}/changes", response_model=PlanOut, status_code=201)
async def change_plan(
    plan_id: UUID,
    body: Annotated[
        PlanChangeIn,
        Body(openapi_examples={k: {"summary": k, "value": v} for k, v in examples.CHANGES_IN.items()}),
    ],
    pool: PoolDep,
    caller: CallerDep,
    settings: SettingsDep,
) -> PlanOut:
    """A one-off change: cancel or move one visit, add an extra one, or pause the plan (a hospital stay)."""
    async with pool.acquire() as conn, conn.transaction():
        change_id = await plans.change_plan(
            conn, caller, plan_id=plan_id, change=body, now=_now(), horizon_days=settings.visits_horizon_days
        )
        plan = await plans.managed_plan(conn, caller, plan_id)
        await caller.audit(
            conn,
            action=f"care_plan.{body.kind}",
            target_type="care_plan",
            target_id=plan_id,
            organisation_id=plan["organisation_id"],
            detail={"change_id": str(change_id), **body.model_dump(mode="json")},
        )
        view = await plans.plan_view(conn, plan)
    return PlanOut.model_validate(view)


@router.delete("/care-plans/{plan_id}", status_code=204)
async def stop_plan(plan_id: UUID, pool: PoolDep, caller: CallerDep, settings: SettingsDep) -> None:
    """Stop a plan: its visits not yet under way are cancelled; those that happened stay in the log."""
    async with pool.acquire() as conn, conn.transaction():
        plan = await plans.stop_plan(
            conn, caller, plan_id=plan_id, now=_now(), horizon_days=settings.visits_horizon_days
        )
        await caller.audit(
            conn,
            action="care_plan.stop",
            target_type="care_plan",
            target_id=plan_id,
            organisation_id=plan["organisation_id"],
        )


@router.post(
    "/organisations/{organisation_id}/carer-tags",
    response_model=TagOut,
    status_code=201,
    responses=problems(409),
)
async def issue_tag(organisation_id: UUID, body: TagIn, pool: PoolDep, caller: CallerDep) -> TagOut:
    """Give an NFC tag to a carer: their taps on a home's door reader check them in and out."""
    async with pool.acquire() as conn, conn.transaction():
        row = await visits.issue_tag(conn, caller, organisation_id=organisation_id, body=body)
        await caller.audit(
            conn,
            action="carer_tag.issue",
            target_type="user",
            target_id=body.user_id,
            organisation_id=organisation_id,
            detail={"tag_id": body.tag_id},
        )
    return TagOut.model_validate(dict(row))


@router.get("/organisations/{organisation_id}/carer-tags", response_model=list[TagOut])
async def list_tags(organisation_id: UUID, pool: PoolDep, caller: CallerDep) -> list[TagOut]:
    """The organisation's carer tags, live and revoked (coordinators)."""
    caller.require_manager(organisation_id)
    async with pool.acquire() as conn:
        rows = await tag_queries.organisation_tags(conn, organisation_id=organisation_id)
    return [TagOut.model_validate(dict(r)) for r in rows]


@router.post("/carer-tags/{carer_tag_id}/revoke", response_model=TagOut)
async def revoke_tag(carer_tag_id: UUID, pool: PoolDep, caller: CallerDep) -> TagOut:
    """Revoke a tag (lost, or the carer left): its taps are then flagged as an unknown tag."""
    async with pool.acquire() as conn, conn.transaction():
        row = await visits.revoke_tag(conn, caller, tag_row_id=carer_tag_id)
        await caller.audit(
            conn,
            action="carer_tag.revoke",
            target_type="user",
            target_id=row["user_id"],
            organisation_id=row["organisation_id"],
            detail={"tag_id": row["tag_id"]},
        )
    return TagOut.model_validate(dict(row))


@router.put(
    "/users/{user_id}/skills",
    response_model=list[str],
    responses={200: {"content": {"application/json": {"example": examples.SKILLS}}}},
)
async def set_skills(user_id: UUID, body: SkillsIn, pool: PoolDep, caller: CallerDep) -> list[str]:
    """Replace a carer's skills (a plan's visit may require some)."""
    async with pool.acquire() as conn, conn.transaction():
        org = await visits.set_skills(conn, caller, user_id=user_id, skills=body.skills)
        await caller.audit(
            conn,
            action="carer.skills",
            target_type="user",
            target_id=user_id,
            organisation_id=org,
            detail={"skills": sorted(set(body.skills))},
        )
    return sorted(set(body.skills))
