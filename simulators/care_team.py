"""The simulated homes' care teams: for each tag a home's simulated carers tap, a carer of the simulated
organisation holding that tag, assigned to the home and to each stored visit the simulation sends them
to, so that their taps at the door check them in to their own visits (`telecare simulate --care-plans`
and the demo). Without it every tap is of a tag nobody holds: an alert of a wrong home at each door."""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from datetime import timedelta
from uuid import UUID

import asyncpg

from accounts import queries as account_queries
from homes import queries as home_queries
from simulators.model import HomeStream
from visits import queries as visit_queries
from visits import tag_queries

_FIRST_NAMES = (
    "Amira", "Ben", "Chloe", "Dev", "Ewa", "Femi", "Grace", "Hamza", "Isla", "Jon", "Kasia", "Liam",
)  # fmt: skip
_SURNAMES = ("Adams", "Begum", "Clarke", "Davies", "Evans", "Fischer", "Gill", "Hughes", "Iqbal", "Jones")
_BY = ("system", "simulator")


def carer_email(home_number: int, position: int) -> str:
    """The simulated carer's email: the home's number in the simulation and the carer's place in its team."""
    return f"carer{home_number}.{position}@sim.example"


def carer_name(tag_id: str) -> str:
    """A person's name for the carer holding the tag, the same on every run."""
    n = zlib.crc32(tag_id.encode())
    return f"{_FIRST_NAMES[n % len(_FIRST_NAMES)]} {_SURNAMES[(n // 97) % len(_SURNAMES)]}"


async def staff_homes(
    conn: asyncpg.Connection, homes: Iterable[tuple[UUID, HomeStream]], *, organisation_id: UUID
) -> int:
    """Give each home its care team and put each carer on the visits the simulation sends them to
    (visits already staffed are left as they are); how many assignments were made."""
    made = 0
    for number, (home_id, stream) in enumerate(homes, start=1):
        tags = sorted({v.tag_id for v in stream.visits})
        team = {
            tag: await _carer(conn, organisation_id, tag, carer_email(number, position))
            for position, tag in enumerate(tags, start=1)
        }
        for user_id in team.values():
            await home_queries.insert_assignment(conn, home_id=home_id, user_id=user_id)
        made += await _assign(conn, home_id, stream, team)
    return made


async def _carer(conn: asyncpg.Connection, organisation_id: UUID, tag_id: str, email: str) -> UUID:
    """The carer with this email (made once, without a password), holding the tag."""
    row = await account_queries.insert_user(
        conn,
        email=email,
        name=carer_name(tag_id),
        role="carer",
        organisation_id=organisation_id,
        password_hash=None,
    )
    if row is None:
        row = await account_queries.get_login(conn, email=email)
    assert row is not None
    user_id: UUID = row["id"]
    await tag_queries.insert_tag(conn, tag_id=tag_id, user_id=user_id, organisation_id=organisation_id)
    return user_id


async def _assign(conn: asyncpg.Connection, home_id: UUID, stream: HomeStream, team: dict[str, UUID]) -> int:
    if not stream.visits:
        return 0
    first = min(v.planned_start for v in stream.visits)
    last = max(v.planned_start for v in stream.visits)
    rows = await visit_queries.unstaffed(
        conn, home_id=home_id, since=first - timedelta(minutes=1), until=last + timedelta(minutes=1)
    )
    stored = {r["planned_start"]: r["id"] for r in rows}
    made = 0
    for visit in stream.visits:
        visit_id = stored.get(visit.planned_start)
        if visit_id is not None:
            made += await visit_queries.assign(
                conn, visit_id=visit_id, carer_id=team[visit.tag_id], by=None, actor=_BY, reason="the rota"
            )
    return made
