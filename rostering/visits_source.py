"""The VisitSource over visits/ (issue 14): its materialised visits in, assignments out through its service.

Read through visits' and homes' own queries: a visit's start window is its planned start plus or minus
the configured slack (visits store a planned start, not a window); its client is its home, at the home's
location; the carers it has now (the care plan's standing assignment) are its preferred carers. The
history is who was assigned to the organisation's visits in the weeks before. Accepting adds a carer to
the home's carers when they are not yet among them (visits require it), then reassigns the visit through
visits.service.reassign, which checks membership and skills and records every change with its reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg
import orjson

from accounts.tenancy import Scope, Viewer
from homes import queries as home_queries
from rostering.model import GeoPoint, PastVisit, Visit
from rostering.source import Inputs
from visits import plan_queries, service
from visits import queries as visit_queries
from visits.schemas import VisitCarersIn

UTC = ZoneInfo("UTC")


def _carers(row: asyncpg.Record) -> list[str]:
    carers = row["carers"]
    carers = orjson.loads(carers) if isinstance(carers, str) else carers
    return [str(c["id"]) for c in carers]


@dataclass(slots=True, frozen=True)
class VisitsSource:
    """Visits' side of rostering, as stored by visits/."""

    window_s: int = 30 * 60

    async def inputs(
        self, conn: asyncpg.Connection, *, organisation_id: UUID, start: date, end: date, since: datetime
    ) -> Inputs:
        """The planned visits with local dates in [start, end], the history since, the carers' skills."""
        scope = Scope(organisation_id=organisation_id)
        # A day either side of the range in UTC, then filtered on the home's own local date.
        lo = datetime.combine(start - timedelta(days=1), time(), tzinfo=UTC)
        hi = datetime.combine(end + timedelta(days=2), time(), tzinfo=UTC)
        rows = await visit_queries.visits_between(conn, scope=scope, since=lo, until=hi)
        homes: dict[UUID, asyncpg.Record | None] = {}
        visits: list[Visit] = []
        unplannable: list[tuple[str, str]] = []
        for row in rows:
            if not start <= row["local_date"] <= end or row["status"] != "planned":
                continue
            if row["home_id"] not in homes:
                homes[row["home_id"]] = await home_queries.get_home(conn, home_id=row["home_id"])
            home = homes[row["home_id"]]
            if home is None or home["latitude"] is None or home["longitude"] is None:
                unplannable.append(
                    (str(row["id"]), "the home has no location; set its latitude and longitude")
                )
                continue
            visits.append(self._visit(row, home))
        history = await self._history(conn, scope=scope, since=since, until=lo)
        skills = {}
        for carer in {c for v in visits for c in v.preferred} | {p.carer_id for p in history}:
            skills[carer] = frozenset(await plan_queries.carer_skills(conn, user_id=UUID(carer)))
        for row in await conn.fetch(
            "SELECT id FROM users WHERE organisation_id = $1 AND role = 'carer' AND active", organisation_id
        ):
            if str(row["id"]) not in skills:
                skills[str(row["id"])] = frozenset(await plan_queries.carer_skills(conn, user_id=row["id"]))
        return Inputs(visits, history, skills, unplannable)

    def _visit(self, row: asyncpg.Record, home: asyncpg.Record) -> Visit:
        planned = row["planned_start"].astimezone(ZoneInfo(home["timezone"]))
        slack = timedelta(seconds=self.window_s)
        return Visit(
            id=str(row["id"]),
            client_id=str(row["home_id"]),
            location=GeoPoint(home["latitude"], home["longitude"]),
            planned_start=planned,
            window_start=planned - slack,
            window_end=planned + slack,
            duration_s=int(row["planned_minutes"]) * 60,
            carers_needed=int(row["carers_required"]),
            skills=frozenset(row["required_skills"]),
            preferred=frozenset(_carers(row)),
        )

    async def _history(
        self, conn: asyncpg.Connection, *, scope: Scope, since: datetime, until: datetime
    ) -> list[PastVisit]:
        rows = await visit_queries.visits_between(conn, scope=scope, since=since, until=until)
        return [
            PastVisit(str(r["home_id"]), carer, r["planned_start"])
            for r in rows
            if r["status"] != "cancelled"
            for carer in _carers(r)
        ]

    async def assign(
        self, conn: asyncpg.Connection, caller: Viewer, *, visit_id: str, carer_ids: list[UUID], reason: str
    ) -> None:
        """Add the carers to the home's carers if need be, then reassign the visit through visits."""
        row = await service.visible_visit(conn, caller, UUID(visit_id))
        for carer in carer_ids:
            if not await plan_queries.assigned_to_home(conn, user_id=carer, home_id=row["home_id"]):
                await home_queries.insert_assignment(conn, home_id=row["home_id"], user_id=carer)
        await service.reassign(
            conn, caller, visit_id=UUID(visit_id), body=VisitCarersIn(carer_ids=carer_ids, reason=reason)
        )
