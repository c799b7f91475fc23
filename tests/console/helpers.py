"""Console test helpers: passwords for the world's people, and logging in through the console's form."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg
import httpx
from fastapi import FastAPI

from accounts import queries as account_queries
from accounts.passwords import hash_password
from kernel.settings import Settings
from telecare.services import build_app
from visits import queries as visit_queries

PASSWORD = "correct horse battery staple console"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def console_settings(settings: Settings) -> Settings:
    """The test settings for plain http (the cookie's Secure flag off, as for local development)."""
    return settings.model_copy(update={"console_cookie_secure": False})


async def give_passwords(pool: asyncpg.Pool, *user_ids: UUID) -> None:
    """Let these users log in with PASSWORD."""
    hashed = hash_password(PASSWORD)
    async with pool.acquire() as conn:
        for user_id in user_ids:
            await account_queries.set_password(conn, user_id=user_id, password_hash=hashed)


def csrf_of(html: str) -> str:
    """The CSRF token a page's forms carry."""
    found = _CSRF.search(html)
    assert found, "no CSRF field on the page"
    return found.group(1)


async def log_in(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    """Log in through the console's form; the client keeps the cookie."""
    form = await client.get("/console/login")
    assert form.status_code == 200
    return await client.post(
        "/console/login",
        data={"email": email, "password": password, "csrf": csrf_of(form.text), "next": "/console/"},
    )


@asynccontextmanager
async def console_app(
    settings: Settings, *, secure: bool = False
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """The app as `telecare` builds it (console included) with its lifespan, and an in-process client
    (over plain http, so the cookie's Secure flag is off unless `secure`)."""
    app = build_app(settings if secure else console_settings(settings))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield app, client


# Where the test world's first homes are (a street in Richmond): the carer's phone is put here.
HOME_AT = (51.4613, -0.3037)


def midday_zone(now: datetime) -> str:
    """A fixed-offset IANA zone in which `now` falls between 11:30 and 12:30 local time."""
    offset = 12 - round(now.astimezone(UTC).hour + now.minute / 60)
    offset = offset + 24 if offset < -11 else offset
    # The Etc zones' signs are POSIX's: Etc/GMT-5 is five hours ahead of UTC.
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"


async def visit_now(
    pool: asyncpg.Pool,
    *,
    organisation_id: UUID,
    home_id: UUID,
    carer_id: UUID | None,
    minutes_from_now: int = -5,
    tasks: tuple[str, ...] = ("medication", "meal"),
) -> UUID:
    """A visit of the home today, starting so many minutes from now, for the carer; the home placed at
    HOME_AT with a 150 m geofence, in a time zone where it is now about midday (so "today" holds the
    visits hours either side of now whatever the hour the tests run at)."""
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=minutes_from_now)
    zone = midday_zone(datetime.now(UTC))
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            """
            UPDATE homes SET latitude = $2, longitude = $3, geofence_m = 150, timezone = $4
            WHERE id = $1
            """,
            home_id,
            *HOME_AT,
            zone,
        )
        visit = await visit_queries.insert_visit(
            conn,
            organisation_id=organisation_id,
            home_id=home_id,
            local_date=start.astimezone(ZoneInfo(zone)).date(),
            planned_start=start,
            planned_end=start + timedelta(minutes=30),
            tasks=list(tasks),
        )
        assert visit is not None
        if carer_id is not None:
            await visit_queries.assign(
                conn, visit_id=visit, carer_id=carer_id, by=None, actor=("system", ""), reason=""
            )
    return visit
