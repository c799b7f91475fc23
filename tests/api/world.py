"""Two care providers with homes, people of every role, devices and alerts: the tenants the API tests use."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import httpx
from fastapi import FastAPI

from accounts import service as accounts
from accounts.tenancy import Role
from alerts import service as alerts
from alerts.service import Signal
from api.main import create_app
from devices import queries as registry
from homes import queries as home_queries
from kernel.settings import Settings
from rostering import queries as roster_queries
from tests.conftest import ADMIN_TOKEN, JWT_SECRET
from visits import plan_queries, tag_queries
from visits import queries as visit_queries

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@dataclass
class Tenant:
    """One organisation: two homes, a coordinator, a carer and a family member of home 1, an API key."""

    org: UUID
    home: UUID
    other_home: UUID
    device: UUID
    other_device: UUID
    alert: UUID
    other_alert: UUID
    coordinator: UUID
    carer: UUID
    family: UUID
    api_key_id: UUID
    # Carer visits (issue 14): a plan of home 1, a visit there for the carer, one at home 2, a carer's tag.
    plan: UUID
    visit: UUID
    other_visit: UUID
    carer_tag: UUID
    # Rostering (issue 18): a proposed roster of the organisation (still running: nothing in it yet).
    roster: UUID
    contact_point: UUID | None = None  # the coordinator's verified email (notifications)
    tokens: dict[str, dict[str, str]] = field(default_factory=dict)


@dataclass
class World:
    """Tenants A and B, and the platform admin's headers."""

    a: Tenant
    b: Tenant
    admin: dict[str, str]


def bearer(token: str) -> dict[str, str]:
    """Authorization headers for an access token."""
    return {"Authorization": f"Bearer {token}"}


async def session_headers(conn: asyncpg.Connection, user: accounts.User) -> dict[str, str]:
    """Authorization headers for a new login of the user (what a password login would hand out)."""
    pair = await accounts.open_session(conn, accounts.AuthConfig(secret=JWT_SECRET), user)
    return bearer(pair.access_token)


async def raise_alert(
    conn: asyncpg.Connection,
    home: UUID,
    *,
    key: str = "inactivity",
    minutes: int = 0,
    kind: str = "inactivity",
) -> UUID:
    """Raise an alert (of `kind`) in a home through the alert service; returns its id."""
    change = await alerts.raise_or_update(
        conn,
        Signal(
            home_id=home,
            kind=kind,
            severity="high",
            dedupe_key=key,
            triggered_at=T0 + timedelta(minutes=minutes),
            title="No movement",
            explanation="no movement since 09:00",
            evidence=[{"room": "kitchen"}],
        ),
    )
    return change.alert.id


async def _tenant(conn: asyncpg.Connection, name: str) -> Tenant:
    org = await home_queries.insert_organisation(conn, name=name)
    home = await home_queries.insert_home(conn, organisation_id=org, name=f"{name} home 1")
    other_home = await home_queries.insert_home(conn, organisation_id=org, name=f"{name} home 2")
    device = await registry.insert_device(conn, home_id=home, device_type="pendant", room="bedroom")
    other_device = await registry.insert_device(conn, home_id=other_home, device_type="pendant")
    people = {}
    for role in (Role.COORDINATOR, Role.CARER, Role.FAMILY):
        user = await accounts.create_user(
            conn,
            email=f"{role.value}@{name.lower()}.example",
            name=f"{name} {role.value}",
            role=role,
            organisation_id=org,
        )
        people[role] = user
    await home_queries.insert_assignment(conn, home_id=home, user_id=people[Role.CARER].id)
    await home_queries.upsert_circle(
        conn, home_id=home, user_id=people[Role.FAMILY].id, relationship="son", receives_alerts=True
    )
    key_row, key = await accounts.create_api_key(conn, organisation_id=org, name=f"{name} bridge", by=None)
    plan, visit, other_visit, carer_tag = await _visits(
        conn, org, home, other_home, people[Role.CARER].id, name
    )
    tenant = Tenant(
        org=org,
        home=home,
        other_home=other_home,
        device=device,
        other_device=other_device,
        alert=await raise_alert(conn, home),
        other_alert=await raise_alert(conn, other_home),
        coordinator=people[Role.COORDINATOR].id,
        carer=people[Role.CARER].id,
        family=people[Role.FAMILY].id,
        api_key_id=key_row["id"],
        plan=plan,
        visit=visit,
        other_visit=other_visit,
        carer_tag=carer_tag,
        roster=await roster_queries.insert_roster(
            conn, organisation_id=org, start=T0.date(), end=T0.date(), weights={}, created_by=None
        ),
    )
    tenant.contact_point = await conn.fetchval(
        """
        INSERT INTO notification_contact_points (user_id, channel, address, verified_at)
        VALUES ($1, 'email', $2, now()) RETURNING id
        """,
        people[Role.COORDINATOR].id,
        people[Role.COORDINATOR].email,
    )
    tenant.tokens = {role.value: await session_headers(conn, user) for role, user in people.items()}
    tenant.tokens["integration"] = {"X-API-Key": key}
    return tenant


async def _visits(
    conn: asyncpg.Connection, org: UUID, home: UUID, other_home: UUID, carer: UUID, name: str
) -> tuple[UUID, UUID, UUID, UUID]:
    rules: dict[str, Any] = {
        "late_after_minutes": 15,
        "missed_after_minutes": None,
        "short_below_percent": 75,
        "no_checkout_after_minutes": 60,
        "alerts_off": [],
    }
    plan = await plan_queries.insert_plan(
        conn,
        home_id=home,
        organisation_id=org,
        name="Daily",
        service_type="personal_care",
        starts_on=T0.date(),
        ends_on=None,
        rules=rules,
        created_by=None,
    )
    visits = []
    for where in (home, other_home):
        visit = await visit_queries.insert_visit(
            conn,
            organisation_id=org,
            home_id=where,
            local_date=T0.date(),
            planned_start=T0,
            planned_end=T0 + timedelta(minutes=45),
            tasks=["medication"],
            plan_id=plan,
        )
        assert visit is not None
        if where == home:
            await visit_queries.assign(
                conn, visit_id=visit, carer_id=carer, by=None, actor=("system", ""), reason=""
            )
        visits.append(visit)
    tag = await tag_queries.insert_tag(conn, tag_id=f"{name}-tag", user_id=carer, organisation_id=org)
    assert tag is not None
    return plan, visits[0], visits[1], tag["id"]


async def build_world(pool: asyncpg.Pool) -> World:
    """Create tenants A and B."""
    async with pool.acquire() as conn:
        a = await _tenant(conn, "Alder")
        b = await _tenant(conn, "Birch")
    return World(a=a, b=b, admin=bearer(ADMIN_TOKEN))


@asynccontextmanager
async def running_app(settings: Settings) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """The app with its lifespan, and an in-process client."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield app, client
