"""A simulated carer's phone: checks in and out of their visits through the visits service, as the
carer's app does through `POST /v1/visits/{id}/check-in|check-out`, with the fix and event time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from accounts.errors import Forbidden
from accounts.tenancy import Principal, Role, Scope
from simulators.model import CheckRecord
from visits import service as visits
from visits.checkins import CheckConfig
from visits.schemas import PhoneCheckIn


@dataclass(frozen=True, slots=True)
class CarerPhone:
    """The carer as the visits service sees the caller: a carer of the organisation, seeing their homes."""

    principal: Principal
    scope: Scope

    @classmethod
    def of(cls, *, user_id: UUID, name: str, organisation_id: UUID, homes: frozenset[UUID]) -> CarerPhone:
        """A carer's phone, allowed their homes."""
        principal = Principal("user", user_id, name, Role.CARER, organisation_id)
        return cls(principal, Scope(home_ids=homes))

    def require_manager(self, organisation_id: UUID) -> None:
        """A carer manages nothing."""
        raise Forbidden("a carer may not do this")


async def send(
    conn: asyncpg.Connection,
    phone: CarerPhone,
    *,
    visit_id: UUID,
    kind: str,
    check: CheckRecord,
    now: datetime,
    config: CheckConfig,
) -> asyncpg.Record:
    """Send one check-in or check-out (`now` is when it reaches the backend); the event as recorded."""
    fix = check.fix
    body = PhoneCheckIn.model_validate(
        {
            "latitude": fix.latitude if fix else None,
            "longitude": fix.longitude if fix else None,
            "accuracy_m": fix.accuracy_m if fix else None,
            "event_time": check.at.isoformat(),
        }
    )
    return await visits.phone_check(
        conn, phone, visit_id=visit_id, kind=kind, body=body, config=config, now=now
    )
