"""Visit reports, as JSON or CSV: an organisation's (by organisation, home or carer), a home's and a
carer's, for a range of the homes' local dates. Coordinators read their organisation's; a carer reads
their own; another tenant's organisation, home or carer does not exist."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Response

from accounts.tenancy import Role
from api.deps import CallerDep, PoolDep
from api.errors import problems
from api.security import Caller
from homes.service import managed_home, require_organisation
from kernel.strict import DayText
from visits import report_service
from visits.errors import NotFound
from visits.report_schemas import ReportLineOut, VisitReportOut
from visits.reports import GroupBy, ReportLine, to_csv

router = APIRouter(prefix="/v1", tags=["visit reports"], responses=problems(401, 403, 404, 422))

Since = Annotated[
    DayText | None, Query(description="first local date of the range (default: 30 days before until)")
]
Until = Annotated[
    DayText | None, Query(description="the local date after the range, exclusive (default: tomorrow)")
]
_DEFAULT_DAYS = 30


def _range(since: date | None, until: date | None) -> tuple[date, date]:
    end = until or (datetime.now(UTC).date() + timedelta(days=1))
    return since or (end - timedelta(days=_DEFAULT_DAYS)), end


Format = Annotated[Literal["json", "csv"], Query(description="json (default) or csv")]
_CSV_DOC: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "the report"}
}


def _answer(
    organisation_id: UUID, since: date, until: date, group: GroupBy, lines: list[ReportLine], fmt: str
) -> VisitReportOut | Response:
    if fmt == "csv":
        name = f"visits-{group}-{since}-{until}.csv"
        headers = {"Content-Disposition": f'attachment; filename="{name}"'}
        return Response(to_csv(lines), media_type="text/csv", headers=headers)
    return VisitReportOut(
        organisation_id=organisation_id,
        since=since,
        until=until,
        group=group,
        generated_at=datetime.now(UTC),
        lines=[ReportLineOut.model_validate(x) for x in lines],
    )


@router.get(
    "/organisations/{organisation_id}/visit-report", response_model=VisitReportOut, responses=_CSV_DOC
)
async def organisation_report(
    organisation_id: UUID,
    pool: PoolDep,
    caller: CallerDep,
    since: Since = None,
    until: Until = None,
    by: Annotated[
        GroupBy, Query(description="one line for the organisation, per home or per carer")
    ] = "organisation",
    format: Format = "json",
) -> VisitReportOut | Response:
    """An organisation's visits over the range: planned, delivered, late, short, missed, punctuality,
    minutes, continuity, logging compliance and the share verified by the sensors."""
    since, until = _range(since, until)
    caller.require_manager(organisation_id)
    async with pool.acquire() as conn:
        await require_organisation(conn, organisation_id)
        lines = await report_service.build(
            conn, organisation_id=organisation_id, since=since, until=until, group=by, now=datetime.now(UTC)
        )
    return _answer(organisation_id, since, until, by, lines, format)


@router.get("/homes/{home_id}/visit-report", response_model=VisitReportOut, responses=_CSV_DOC)
async def home_report(
    home_id: UUID,
    pool: PoolDep,
    caller: CallerDep,
    since: Since = None,
    until: Until = None,
    format: Format = "json",
) -> VisitReportOut | Response:
    """One home's visits over the range (its organisation's coordinators)."""
    since, until = _range(since, until)
    async with pool.acquire() as conn:
        home = await managed_home(conn, caller, home_id)
        org = home["organisation_id"]
        lines = await report_service.build(
            conn,
            organisation_id=org,
            since=since,
            until=until,
            group="home",
            now=datetime.now(UTC),
            home_id=home_id,
        )
    return _answer(org, since, until, "home", lines, format)


@router.get("/carers/{carer_id}/visit-report", response_model=VisitReportOut, responses=_CSV_DOC)
async def carer_report(
    carer_id: UUID,
    pool: PoolDep,
    caller: CallerDep,
    since: Since = None,
    until: Until = None,
    format: Format = "json",
) -> VisitReportOut | Response:
    """One carer's visits over the range (the carer, or their organisation's coordinators)."""
    since, until = _range(since, until)
    async with pool.acquire() as conn:
        org = await report_service.carer_organisation(conn, carer_id=carer_id)
        _may_read_carer(caller, carer_id, org)
        lines = await report_service.build(
            conn,
            organisation_id=org,
            since=since,
            until=until,
            group="carer",
            now=datetime.now(UTC),
            carer_id=carer_id,
        )
    return _answer(org, since, until, "carer", lines, format)


def _may_read_carer(caller: Caller, carer_id: UUID, organisation_id: UUID) -> None:
    """The carer themself, or a manager of their organisation (403 for others of it); from another
    tenant the carer does not exist."""
    principal = caller.principal
    if principal.role is Role.CARER and principal.id == carer_id:
        return
    if principal.role is not Role.PLATFORM_ADMIN and principal.organisation_id != organisation_id:
        raise NotFound(f"carer {carer_id} not found")
    caller.require_manager(organisation_id)
