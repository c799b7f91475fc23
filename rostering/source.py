"""Where rostering's inputs come from and where accepted assignments go: visits' side, behind one interface.

The solver never sees storage: the service asks a VisitSource for the visits of a date range (with their
homes' locations and the care plans' carers), the history of who visited whom, and each carer's skills;
accepting a roster hands each assignment back to it, to be made through visits' own service (audited).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol
from uuid import UUID

import asyncpg

from accounts.tenancy import Viewer
from rostering.model import PastVisit, Visit


@dataclass(slots=True, frozen=True)
class Inputs:
    """The visits to plan, the history, and each carer's skills (by carer id)."""

    visits: list[Visit]
    history: list[PastVisit]
    skills: dict[str, frozenset[str]]
    unplannable: list[tuple[str, str]]  # visits that cannot even be put to the solver, and why


class VisitSource(Protocol):
    """Visits' side of rostering."""

    async def inputs(
        self, conn: asyncpg.Connection, *, organisation_id: UUID, start: date, end: date, since: datetime
    ) -> Inputs:
        """The organisation's planned visits with local dates in [start, end], and the history since."""
        ...

    async def assign(
        self, conn: asyncpg.Connection, caller: Viewer, *, visit_id: str, carer_ids: list[UUID], reason: str
    ) -> None:
        """Give the visit to these carers, through visits' own rules and audit."""
        ...
