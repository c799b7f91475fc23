"""Run the evaluated month on one virtual clock, through the product's own code: the door reader's taps
through the tag consumer's tap(), phones through the visits service, the rules' sweep every
`rules_s` and the verification job every `verify_s` (both at the grid points where something falls
due, which is what a periodic job at that period would see), and every alert noted with the virtual
time it was raised plus the real time the step took."""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg

from bench.visits.world import MISSED_AFTER, SimHome, World
from simulators.carer_phone import CarerPhone, send
from simulators.model import CheckRecord
from visits import rules, tags
from visits.checkins import CheckConfig
from visits.verify_job import JobOptions, run_once

TAG_S, RULES_S, VERIFY_S = 2.0, 15.0, 30.0  # the jobs' periods (the settings' defaults)
SETTLE_S = 300.0


@dataclass(frozen=True, slots=True)
class Raised:
    """An alert as the evaluation saw it appear: kind, key, home, its own time and when it was raised."""

    kind: str
    dedupe_key: str
    home_id: UUID
    triggered_at: datetime
    raised_at: datetime  # virtual time of the step plus the real time the step took
    evidence: list[dict[str, Any]]


def _grid(at: datetime, period_s: float) -> datetime:
    stamp = math.ceil(at.timestamp() / period_s) * period_s
    return datetime.fromtimestamp(stamp, UTC)


Step = tuple[datetime, int, Callable[[asyncpg.Connection, datetime], Awaitable[object]]]


def _tag_steps(home: SimHome, config: CheckConfig) -> list[Step]:
    out: list[Step] = []
    for event in home.stream.events:
        if event.kind.value != "tag" or event.duplicate:
            continue
        reading = {
            "home_id": home.home_id,
            "device_id": home.devices[event.device_key],
            "seq": event.seq,
            "time": event.at,
            "received_at": event.publish_at,
            "payload": {**event.fields},
        }

        async def tap(conn: asyncpg.Connection, now: datetime, reading: dict[str, Any] = reading) -> None:
            async with conn.transaction():
                await tags.tap(conn, reading, config=config, now=now)

        out.append((_grid(event.publish_at, TAG_S), 1, tap))
    return out


def _phone_steps(home: SimHome, organisation_id: UUID, config: CheckConfig) -> list[Step]:
    out: list[Step] = []
    for visit in home.stream.visits:
        visit_id = home.visits.get(visit.planned_start)
        if visit_id is None:
            continue
        user, name = home.carers[visit.tag_id]
        phone = CarerPhone.of(
            user_id=user, name=name, organisation_id=organisation_id, homes=frozenset({home.home_id})
        )
        for kind, check in zip(("check_in", "check_out"), visit.checks, strict=True):
            if check is None or check.method != "phone":
                continue

            async def call(
                conn: asyncpg.Connection, now: datetime, vid: UUID = visit_id, k: str = kind,
                c: CheckRecord = check, p: CarerPhone = phone,
            ) -> None:  # fmt: skip
                async with conn.transaction():
                    await send(conn, p, visit_id=vid, kind=k, check=c, now=now, config=config)

            arrival = check.at + timedelta(seconds=check.delay_s)
            out.append((arrival, 1, call))
    return out


def _job_steps(world: World, pool: asyncpg.Pool) -> list[Step]:
    """The rules' sweeps and the verification job's runs at the grid points where something falls due."""
    sweeps: set[datetime] = set()
    verifies: set[datetime] = set()
    for home in world.homes:
        for visit in home.stream.visits:
            start, end = visit.planned_start, visit.planned_end
            missed = start + timedelta(minutes=MISSED_AFTER)
            for moment in (start + timedelta(minutes=15), missed, end, end + timedelta(hours=1)):
                sweeps.add(_grid(moment, RULES_S))
            verifies.add(_grid(end + timedelta(hours=1), VERIFY_S))
            verifies.add(_grid(end, VERIFY_S))
            verifies.add(_grid(missed, VERIFY_S))
            out = visit.checks[1]
            if out is not None:
                verifies.add(_grid(out.at + timedelta(seconds=out.delay_s + SETTLE_S), VERIFY_S))
            elif visit.actual_end is not None:
                verifies.add(_grid(visit.actual_end + timedelta(seconds=SETTLE_S), VERIFY_S))

    async def sweep(conn: asyncpg.Connection, now: datetime) -> None:
        await rules.sweep(pool, now=now)

    options = JobOptions(settle_s=SETTLE_S)

    async def verify(conn: asyncpg.Connection, now: datetime) -> None:
        await run_once(pool, options, clock=lambda: now)

    return [(t, 2, sweep) for t in sweeps] + [(t, 3, verify) for t in verifies]


async def run(
    pool: asyncpg.Pool, world: World, *, config: CheckConfig, progress: bool = True
) -> list[Raised]:
    """Every step in time order; the alerts raised, with when."""
    steps: list[Step] = _job_steps(world, pool)
    for home in world.homes:
        steps += _tag_steps(home, config) + _phone_steps(home, world.organisation_id, config)
    steps.sort(key=lambda s: (s[0], s[1]))
    seen: set[UUID] = set()
    raised: list[Raised] = []
    started = time.monotonic()
    async with pool.acquire() as conn:
        mark = await conn.fetchval("SELECT now()")
        for n, (at, _, step) in enumerate(steps):
            began = time.monotonic()
            await step(conn, at)
            took = time.monotonic() - began
            rows = await conn.fetch("SELECT * FROM alerts WHERE created_at >= $1", mark)
            for row in rows:
                if row["id"] not in seen:
                    seen.add(row["id"])
                    raised.append(_raised(row, at + timedelta(seconds=took)))
                    mark = max(mark, row["created_at"])
            if progress and n % 2000 == 0:
                print(
                    f"  step {n}/{len(steps)} at {at:%Y-%m-%d %H:%M} ({time.monotonic() - started:.0f}s)",
                    flush=True,
                )
    return raised


def _raised(row: asyncpg.Record, at: datetime) -> Raised:
    return Raised(row["kind"], row["dedupe_key"], row["home_id"], row["triggered_at"], at, row["evidence"])
