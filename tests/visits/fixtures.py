"""A small world in a real database for the visits jobs' tests: a home with its kit, visits with their
check-ins, and readings written as ingest writes them."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from uuid import UUID

import asyncpg
import orjson

from devices import queries as device_queries
from homes import queries as home_queries
from visits import queries

_SEQ = itertools.count(1)


@dataclass(slots=True, frozen=True)
class Home:
    """A home with a front door, hallway and kitchen motion sensors."""

    organisation_id: UUID
    home_id: UUID
    door: UUID
    hall: UUID
    kitchen: UUID


async def make_home(conn: asyncpg.Connection, *, name: str = "Edith Clark", org: UUID | None = None) -> Home:
    """An organisation (unless given) and a home with its kit."""
    org = org or await home_queries.insert_organisation(conn, name="Care Co")
    home = await home_queries.insert_home(conn, organisation_id=org, name=name)
    ids = [
        await device_queries.insert_device(conn, home_id=home, device_type=kind, room=room)
        for kind, room in (
            ("door_contact", "hallway"),
            ("motion_sensor", "hallway"),
            ("motion_sensor", "kitchen"),
        )
    ]
    return Home(org, home, *ids)


async def make_visit(
    conn: asyncpg.Connection,
    home: Home,
    start: datetime,
    minutes: int = 30,
    tasks: tuple[str, ...] = ("breakfast",),
) -> UUID:
    """A planned visit."""
    visit = await queries.insert_visit(
        conn,
        organisation_id=home.organisation_id,
        home_id=home.home_id,
        local_date=date(start.year, start.month, start.day),
        planned_start=start,
        planned_end=start + timedelta(minutes=minutes),
        tasks=list(tasks),
        service_type="morning call",
    )
    assert visit is not None
    return visit


async def check(
    conn: asyncpg.Connection, home: Home, visit: UUID, kind: str, at: datetime, method: str, **extra: object
) -> None:
    """An accepted check-in or check-out, made the visit's."""
    await queries.insert_event(
        conn,
        visit_id=visit,
        home_id=home.home_id,
        organisation_id=home.organisation_id,
        kind=kind,
        method=method,
        event_time=at,
        arrival_time=at,
        accepted=True,
        actor_kind="device" if method == "tag" else "user",
        **extra,
    )
    await queries.set_checked(conn, visit_id=visit, kind=kind, at=at, method=method)


async def reading(
    conn: asyncpg.Connection,
    home: Home,
    device: UUID,
    kind: str,
    at: datetime,
    value: float,
    lag_s: float = 0.0,
) -> None:
    """A reading as ingest stores it (arriving lag_s after its event time)."""
    await conn.execute(
        """
        INSERT INTO readings (time, received_at, home_id, device_id, seq, kind, value, payload)
        VALUES ($1, $8, $2, $3, $4, $5, $6, $7::jsonb)
        """,
        at,
        home.home_id,
        device,
        next(_SEQ),
        kind,
        value,
        orjson.dumps({"ts": at.isoformat()}).decode(),
        at + timedelta(seconds=lag_s),
    )
