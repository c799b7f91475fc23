"""Visit reports from the database: an organisation's visits over a date range, grouped by organisation,
home or carer (visits/reports.py computes the figures), and who may read which report."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

import asyncpg

from accounts.tenancy import Role
from visits import report_queries
from visits.errors import InvalidInput, NotFound
from visits.reports import GroupBy, ReportLine, ReportVisit, Thresholds, report

MAX_DAYS = 366


def check_range(since: date, until: date) -> None:
    """A report's range: until after since, at most a year."""
    if until <= since:
        raise InvalidInput("until must be after since")
    if (until - since).days > MAX_DAYS:
        raise InvalidInput(f"a report covers at most {MAX_DAYS} days")


async def build(
    conn: asyncpg.Connection,
    *,
    organisation_id: UUID,
    since: date,
    until: date,
    group: GroupBy,
    now: datetime,
    home_id: UUID | None = None,
    carer_id: UUID | None = None,
) -> list[ReportLine]:
    """The report's lines (for a carer's report, only that carer's line)."""
    check_range(since, until)
    rows = await report_queries.report_rows(
        conn, organisation_id=organisation_id, since=since, until=until, home_id=home_id, carer_id=carer_id
    )
    names = (
        await report_queries.carer_names(conn, organisation_id=organisation_id) if group == "carer" else {}
    )
    visits = [_visit(r, names) for r in rows]
    lines = report(visits, group, now, Thresholds())
    if carer_id is not None:
        lines = [x for x in lines if x.id == str(carer_id)]
    return lines


def _visit(row: asyncpg.Record, names: dict[UUID, str]) -> ReportVisit:
    carers = row["checked_by"] or row["assigned"] or []
    return ReportVisit(
        visit_id=row["id"],
        organisation_id=row["organisation_id"],
        home_id=row["home_id"],
        home_name=row["home_name"],
        carers=tuple((c, names.get(c, "")) for c in carers),
        planned_start=row["planned_start"],
        planned_minutes=float(row["planned_minutes"]),
        check_in_at=row["checked_in_at"],
        check_out_at=row["checked_out_at"],
        check_in_method=row["check_in_method"],
        check_out_method=row["check_out_method"],
        flags=tuple(row["flags"]),
        verdict=row["verdict"],
        corroborated=row["corroborated"],
    )


async def carer_organisation(conn: asyncpg.Connection, *, carer_id: UUID) -> UUID:
    """The organisation of a carer (NotFound for anyone who is not a carer)."""
    row = await conn.fetchrow("SELECT organisation_id, role FROM users WHERE id = $1", carer_id)
    if row is None or row["role"] != Role.CARER.value or row["organisation_id"] is None:
        raise NotFound(f"carer {carer_id} not found")
    organisation: UUID = row["organisation_id"]
    return organisation
