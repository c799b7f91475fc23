"""The evaluation's world in a real database: simulated homes with their kit, care teams with tags, care
plans made from the residents' profiles and materialised into visits, each visit assigned to the carer
the simulation sends, and the home's readings around its visits."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import orjson

from accounts import queries as account_queries
from accounts.errors import Forbidden
from accounts.tenancy import EVERYTHING, Principal, Role, Scope
from devices import queries as device_queries
from homes import queries as home_queries
from simulators.checkins import Habits
from simulators.home import home_rota, simulate_home
from simulators.layouts import get_layout
from simulators.model import HomeStream
from simulators.plans import plan_body, slots_from_plan
from simulators.profiles import get_profile
from visits import plan_queries, plans, tag_queries
from visits.plan_schemas import PlanIn

PROFILES = ("frail", "dementia", "frail", "dementia", "active")
LAYOUTS = {"active": "flat", "frail": "bungalow", "dementia": "house"}
# Kinds the verification reads (visits/verification_queries.py), and the door reader's taps.
KEPT = frozenset({"motion", "contact", "occupancy", "flush", "power", "tag"})
# Readings around each visit, as far as a verdict can look: an hour before a late arrival, and after
# a forgotten check-out until the rule gives up on it.
BEFORE, AFTER = timedelta(hours=2, minutes=30), timedelta(hours=1, minutes=30)
# The plans' window for a visit: missed when nobody has checked in 75 min after its planned start. The
# default, its planned end, would call a 20-minute visit missed when its carer is 25 minutes late.
MISSED_AFTER = 75


@dataclass(frozen=True, slots=True)
class Coordinator:
    """The organisation's coordinator, as the visits service sees the caller."""

    principal: Principal
    scope: Scope = EVERYTHING

    def require_manager(self, organisation_id: UUID) -> None:
        """A coordinator of this organisation manages it."""
        if organisation_id != self.principal.organisation_id:
            raise Forbidden("another organisation")


@dataclass(slots=True)
class SimHome:
    """One simulated home in the database: its stream, ids, devices, care team and visits."""

    stream: HomeStream
    home_id: UUID
    devices: dict[str, UUID]
    carers: dict[str, tuple[UUID, str]]  # tag id -> (user id, name)
    visits: dict[datetime, UUID] = field(default_factory=dict)  # planned start -> visit id


@dataclass(frozen=True, slots=True)
class World:
    """The organisation and its homes."""

    organisation_id: UUID
    homes: list[SimHome]


async def build(
    conn: asyncpg.Connection, *, homes: int, start: date, days: int, habits: Habits, seed: int
) -> World:
    """Create the organisation, its homes, carers and plans, and the visits and readings of the period."""
    org = await home_queries.insert_organisation(conn, name="Evaluation care")
    boss = await _user(conn, org, "coordinator", "coordinator@eval.example", "Coordinator")
    caller = Coordinator(
        Principal("user", boss, "Coordinator", Role.COORDINATOR, org), Scope(organisation_id=org)
    )
    kinds = [(PROFILES[i % len(PROFILES)], seed + i) for i in range(homes)]
    rotas = [home_rota(seed=s, profile=p, layout=LAYOUTS[p]) for p, s in kinds]
    out = []
    for i, (profile, home_seed) in enumerate(kinds):
        home = await _home(conn, org, i, profile, rotas[i])
        plan_in = plan_body(get_profile(profile), starts_on=start) | {
            "rules": {"missed_after_minutes": MISSED_AFTER}
        }
        body = PlanIn.model_validate(plan_in)
        plan = await plans.create_plan(
            conn, caller, home_id=home.home_id, body=body,
            now=datetime.combine(start, datetime.min.time(), UTC) - timedelta(days=1), horizon_days=days + 2,
        )  # fmt: skip
        slots = slots_from_plan(
            await plan_queries.plan_visits(conn, plan_id=plan["id"]), get_profile(profile)
        )
        home.stream = simulate_home(
            seed=home_seed, profile=profile, layout=LAYOUTS[profile], start=start, days=days, habits=habits,
            foreign_tags=rotas[(i + 1) % homes], plan=slots, home_name=home.stream.home_name,
        )  # fmt: skip
        await _place(conn, home)
        out.append(home)
    return World(org, out)


async def _user(conn: asyncpg.Connection, org: UUID, role: str, email: str, name: str) -> UUID:
    row = await account_queries.insert_user(
        conn, email=email, name=name, role=role, organisation_id=org, password_hash=None
    )
    assert row is not None
    user: UUID = row["id"]
    return user


async def _home(
    conn: asyncpg.Connection, org: UUID, index: int, profile: str, rota: tuple[str, ...]
) -> SimHome:
    name = f"Home {index + 1} ({profile})"
    home_id = await home_queries.insert_home(conn, organisation_id=org, name=name)
    devices = {
        spec.key: await device_queries.insert_device(
            conn, home_id=home_id, device_type=spec.type, room=spec.room
        )
        for spec in get_layout(LAYOUTS[profile]).devices
    }
    carers = {}
    for n, tag in enumerate(rota):
        carer_name = f"Carer {index + 1}.{n + 1}"
        user = await _user(conn, org, "carer", f"carer{index + 1}.{n + 1}@eval.example", carer_name)
        await tag_queries.insert_tag(conn, tag_id=tag, user_id=user, organisation_id=org)
        carers[tag] = (user, carer_name)
    placeholder = HomeStream(name, "", profile, [], [], [], "Europe/London", date.today(), 1)
    return SimHome(placeholder, home_id, devices, carers)


async def _place(conn: asyncpg.Connection, home: SimHome) -> None:
    """Match the simulated visits to the stored ones, assign their carers, store the readings near them."""
    rows = await conn.fetch("SELECT id, planned_start FROM visits WHERE home_id = $1", home.home_id)
    stored = {r["planned_start"]: r["id"] for r in rows}
    if home.stream.location is not None:
        lat, lon = home.stream.location
        await conn.execute(
            "UPDATE homes SET latitude = $2, longitude = $3 WHERE id = $1", home.home_id, lat, lon
        )
    for visit in home.stream.visits:
        visit_id = stored.get(visit.planned_start)
        if visit_id is None:
            continue
        home.visits[visit.planned_start] = visit_id
        carer = home.carers[visit.tag_id][0]
        await conn.execute(
            "INSERT INTO visit_assignments (visit_id, carer_id) VALUES ($1, $2)", visit_id, carer
        )
    await _readings(conn, home)


async def _readings(conn: asyncpg.Connection, home: SimHome) -> None:
    spans = _union([(v.planned_start - BEFORE, v.planned_end + AFTER) for v in home.stream.visits]
                   + [(t.at - BEFORE, t.at + AFTER) for t in home.stream.strays])  # fmt: skip
    starts = [a for a, _ in spans]
    records: list[tuple[Any, ...]] = []
    for event in home.stream.events:
        if event.kind.value not in KEPT or event.duplicate:
            continue
        at = event.at
        i = bisect.bisect_right(starts, at) - 1
        if i < 0 or at > spans[i][1]:
            continue
        fields = event.fields
        payload = orjson.dumps({**fields, "ts": at.isoformat(), "seq": event.seq}).decode()
        records.append(
            (at, event.publish_at, home.home_id, home.devices[event.device_key], event.seq, event.kind.value,
             _value(event.kind.value, fields), payload)
        )  # fmt: skip
    await conn.copy_records_to_table(
        "readings",
        records=records,
        columns=["time", "received_at", "home_id", "device_id", "seq", "kind", "value", "payload"],
    )


def _union(spans: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """Overlapping spans merged, in order."""
    out: list[tuple[datetime, datetime]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _value(kind: str, fields: dict[str, Any]) -> float | None:
    flag = {"motion": "detected", "contact": "open", "occupancy": "occupied"}.get(kind)
    if flag is not None:
        return 1.0 if fields.get(flag) else 0.0
    if kind == "power":
        return float(fields.get("watts", 0.0))
    return 1.0 if kind == "flush" else None
