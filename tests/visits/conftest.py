"""The visits tests' world: a provider with two homes, carers, a family member each, and another provider."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from uuid import UUID

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from accounts import service as accounts
from accounts.errors import Forbidden, NotFound
from accounts.tenancy import Principal, Role, Scope, manages
from homes import queries as home_queries
from kernel.settings import Settings
from tests.api.world import running_app, session_headers
from visits import queries

# Mrs Okafor's home, and another two miles away.
HOME_AT = (51.4613, -0.3037)
OTHER_AT = (51.4900, -0.2700)


@dataclass(frozen=True)
class As:
    """A Viewer for calling the visits services directly, as the API's Caller would."""

    principal: Principal
    scope: Scope

    def require_manager(self, organisation_id: UUID) -> None:
        """As api.security.Caller.require_manager."""
        if (
            self.principal.role is not Role.PLATFORM_ADMIN
            and self.principal.organisation_id != organisation_id
        ):
            raise NotFound(f"organisation {organisation_id} not found")
        if not manages(self.principal, organisation_id):
            raise Forbidden("only coordinators")


@dataclass
class Provider:
    """One organisation with two homes, a coordinator, two carers (both homes) and a family member each."""

    org: UUID
    home: UUID
    other_home: UUID
    coordinator: UUID
    carer: UUID
    second_carer: UUID
    family: UUID
    other_family: UUID
    names: dict[UUID, str] = field(default_factory=dict)
    tokens: dict[str, dict[str, str]] = field(default_factory=dict)

    def viewer(self, who: str) -> As:
        """The person as a Viewer for the services."""
        user = getattr(self, who)
        role = {"coordinator": Role.COORDINATOR, "carer": Role.CARER, "second_carer": Role.CARER}.get(
            who, Role.FAMILY
        )
        principal = Principal("user", user, self.names[user], role, self.org)
        if role is Role.COORDINATOR:
            return As(principal, Scope(organisation_id=self.org))
        homes = {"family": {self.home}, "other_family": {self.other_home}}.get(
            who, {self.home, self.other_home}
        )
        return As(principal, Scope(home_ids=frozenset(homes)))


async def make_provider(conn: asyncpg.Connection, name: str) -> Provider:
    """A provider with its homes and people (and login headers for each person)."""
    org = await home_queries.insert_organisation(conn, name=name)
    home = await home_queries.insert_home(
        conn, organisation_id=org, name=f"{name} home", latitude=HOME_AT[0], longitude=HOME_AT[1]
    )
    other = await home_queries.insert_home(
        conn, organisation_id=org, name=f"{name} other home", latitude=OTHER_AT[0], longitude=OTHER_AT[1]
    )
    await conn.execute("UPDATE homes SET geofence_m = 100 WHERE id = ANY($1::uuid[])", [home, other])
    people: dict[str, accounts.User] = {}
    for who, role in (
        ("coordinator", Role.COORDINATOR),
        ("carer", Role.CARER),
        ("second_carer", Role.CARER),
        ("family", Role.FAMILY),
        ("other_family", Role.FAMILY),
    ):
        people[who] = await accounts.create_user(
            conn, email=f"{who}@{name.lower()}.example", name=f"{name} {who}", role=role, organisation_id=org
        )
    for carer in ("carer", "second_carer"):
        for h in (home, other):
            await home_queries.insert_assignment(conn, home_id=h, user_id=people[carer].id)
    for who, h in (("family", home), ("other_family", other)):
        await home_queries.upsert_circle(
            conn, home_id=h, user_id=people[who].id, relationship="daughter", receives_alerts=True
        )
    ids = {who: user.id for who, user in people.items()}
    provider = Provider(
        org=org,
        home=home,
        other_home=other,
        coordinator=ids["coordinator"],
        carer=ids["carer"],
        second_carer=ids["second_carer"],
        family=ids["family"],
        other_family=ids["other_family"],
    )
    provider.names = {u.id: u.name for u in people.values()}
    provider.tokens = {who: await session_headers(conn, user) for who, user in people.items()}
    return provider


async def make_visit(
    conn: asyncpg.Connection,
    provider: Provider,
    *,
    start: datetime,
    minutes: int = 60,
    carers: tuple[UUID, ...] = (),
    home: UUID | None = None,
    tasks: tuple[str, ...] = ("medication", "breakfast"),
) -> UUID:
    """A visit stored directly (as materialisation would), assigned to the carers."""
    visit = await queries.insert_visit(
        conn,
        organisation_id=provider.org,
        home_id=home or provider.home,
        local_date=start.date(),
        planned_start=start,
        planned_end=start + timedelta(minutes=minutes),
        tasks=list(tasks),
    )
    assert visit is not None
    for carer in carers:
        await queries.assign(
            conn, visit_id=visit, carer_id=carer, by=None, actor=("system", "test"), reason=""
        )
    return visit


@dataclass
class VisitsApi:
    """The app, a client, its pool, and providers A and B."""

    app: FastAPI
    client: httpx.AsyncClient
    pool: asyncpg.Pool
    a: Provider
    b: Provider


@pytest.fixture
async def vapi(settings: Settings) -> AsyncIterator[VisitsApi]:
    """The app on this test's database with providers A and B."""
    async with running_app(settings) as (app, client):
        pool = app.state.resources.pool
        async with pool.acquire() as conn:
            a = await make_provider(conn, "Alder")
            b = await make_provider(conn, "Birch")
        yield VisitsApi(app, client, pool, a, b)


@pytest.fixture
async def provider(pool: asyncpg.Pool) -> Provider:
    """Provider A alone, for service-level tests."""
    async with pool.acquire() as conn:
        return await make_provider(conn, "Alder")


def local(day: date, hour: int, minute: int = 0) -> datetime:
    """A Europe/London wall-clock time as an aware datetime."""
    from zoneinfo import ZoneInfo

    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo("Europe/London"))
