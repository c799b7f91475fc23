"""The verification job: every so often, the visits due a verdict (checked out a few minutes ago, still
checked in long after their end, or missed) are judged from the home's readings (visits/verification.py)
and written to the verification log; a visit the sensors contradict raises a `visit_unverified` alert.

A visit whose record changes after its verdict (a late check-out from an offline phone) is judged again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from statistics import median
from uuid import UUID

import asyncpg

from alerts import service as alerts
from alerts.errors import AlertNotFound
from visits import log_queries
from visits import verification_queries as vq
from visits.corroboration import SensorEvent
from visits.kit import Kit, KitDevice
from visits.recurrence import local_hhmm
from visits.verification import Check, Rules, Task, Verification, VisitFacts, assumed_end, verify

log = logging.getLogger(__name__)
_TASK_DONE = {"done": True, "not_done": False}
# Below this, a device's median arrival lag is delivery, not its clock; readings are read this much
# further on, for a clock that runs slow.
CLOCK_JITTER_S = 20.0
CLOCK_PAD_S = 600.0


@dataclass(slots=True, frozen=True)
class JobOptions:
    """How the job judges and how much it takes on at once."""

    settle_s: float = 300.0
    batch: int = 200
    rules: Rules = field(default_factory=Rules)


_ACTOR = alerts.Actor("system", name="visits")


async def run_once(
    pool: asyncpg.Pool, options: JobOptions | None = None, *, clock: Callable[[], datetime] | None = None
) -> int:
    """Judge every visit due a verdict now; returns how many were judged."""
    options = options or JobOptions()
    async with pool.acquire() as conn:
        now: datetime = clock() if clock else await conn.fetchval("SELECT now()")
        due = await vq.due_for_verdict(conn, now=now, settle_s=options.settle_s, limit=options.batch)
        for row in due:
            await judge(conn, visit_id=row["id"], now=now, options=options)
    return len(due)


async def judge(
    conn: asyncpg.Connection, *, visit_id: UUID, now: datetime, options: JobOptions
) -> Verification | None:
    """Judge one visit, store its verdict and, if the sensors contradict it, raise the alert."""
    row = await vq.visit_for_verdict(conn, visit_id=visit_id)
    if row is None:
        return None
    checks = await vq.accepted_checks(conn, visit_id=visit_id)
    facts = facts_of(row, checks)
    rules = _rules(row, options.rules)
    kit = Kit.of(
        KitDevice(d["id"], d["type"], d["room"], d["role"])
        for d in await vq.home_kit(conn, home_id=row["home_id"])
    )
    events: list[SensorEvent] = []
    offsets: dict[UUID, float] = {}
    if facts.check_in is not None:
        since = facts.check_in.at - timedelta(seconds=rules.window.empty_before_s + rules.window.door_s)
        end = facts.check_out.at if facts.check_out else assumed_end(facts, facts.check_in.at)
        until = end + timedelta(seconds=rules.window.door_s + CLOCK_PAD_S)
        readings = await vq.home_readings(conn, home_id=row["home_id"], since=since, until=until)
        offsets = await _offsets(conn, row["home_id"], since, until)
        events = [
            SensorEvent(
                r["time"] + timedelta(seconds=offsets.get(r["device_id"], 0.0)),
                r["device_id"],
                r["kind"],
                r["value"],
            )
            for r in readings
        ]
        readers = {c["kind"]: offsets.get(c["device_id"], 0.0) for c in checks if c["device_id"] is not None}
        facts = replace(facts, clock_offsets_s=(readers.get("check_in", 0.0), readers.get("check_out", 0.0)))
    result = verify(facts, kit, events, rules)
    evidence = {**result.evidence, "corroborated": result.corroborated}
    if offsets:
        evidence["clock_offsets_s"] = {str(k): round(v) for k, v in offsets.items()}
    async with conn.transaction():
        await log_queries.upsert_verification(
            conn,
            visit_id=visit_id,
            verdict=result.verdict,
            reasons=list(result.reasons),
            evidence=evidence,
            # The database's own clock, which stamps the visit's changes: a later change means judge again.
            computed_at=await conn.fetchval("SELECT now()"),
        )
        if result.verdict == "unverified":
            await _raise_unverified(conn, row, result, _knowable(facts, options, now))
        else:
            # Judged again on what arrived since (an offline phone's check-out, the home's readings
            # sent late): an earlier unverified alert is withdrawn with the new verdict as the reason.
            await alerts.clear(
                conn,
                home_id=row["home_id"],
                dedupe_key=f"visit_unverified:{row['id']}",
                at=now,
                note=f"withdrawn: judged again on what arrived since, the visit is {result.verdict}: "
                + " ".join(result.reasons),
                resolution="cancelled",
                actor=_ACTOR,
            )
    return result


async def _offsets(
    conn: asyncpg.Connection, home_id: UUID, since: datetime, until: datetime
) -> dict[UUID, float]:
    """The devices whose clocks are off by more than the delivery jitter, and by how much (seconds to add).

    Sensors and door readers each keep their own clock; one a few minutes fast or slow would put the
    front door outside the minutes around a tag's tap. Judged over the day before, against the home's
    other devices: a backlog the whole home sent late (its link was down) moves them all alike.
    """
    found = await vq.clock_offsets(conn, home_id=home_id, since=since - timedelta(days=1), until=until)
    # A clock error shows as a steady lag; a backlog (a link that was down) as lags spread wide, which
    # says nothing of the clock.
    steady = {device: mid for device, (low, mid, high) in found.items() if high - low < CLOCK_JITTER_S}
    if not steady:
        return {}
    common = median(steady.values())
    relative = {device: mid - common for device, mid in steady.items()}
    return {device: offset for device, offset in relative.items() if abs(offset) > CLOCK_JITTER_S}


def _knowable(facts: VisitFacts, options: JobOptions, now: datetime) -> datetime:
    """When the verdict could first be known: the check-out plus the settling time (never after now)."""
    if facts.check_out is None:
        return now
    return min(now, facts.check_out.at + timedelta(seconds=options.settle_s))


async def _raise_unverified(
    conn: asyncpg.Connection, row: asyncpg.Record, result: Verification, at: datetime
) -> None:
    start = local_hhmm(row["checked_in_at"], row["timezone"])
    signal = alerts.Signal(
        home_id=row["home_id"],
        kind="visit_unverified",
        severity="high",
        dedupe_key=f"visit_unverified:{row['id']}",
        triggered_at=at,
        title=f"Visit at {start} not confirmed by the home's sensors",
        explanation=" ".join(result.reasons),
        evidence=[{"visit_id": str(row["id"]), "verdict": result.verdict, "home": result.evidence["home"]}],
        source="visits",
    )
    try:
        await alerts.raise_or_update(conn, signal, actor=_ACTOR)
    except AlertNotFound:
        log.warning("home of visit %s no longer exists", row["id"])


def _rules(row: asyncpg.Record, base: Rules) -> Rules:
    """The plan's own late and short thresholds, where it has a plan."""
    late = row["late_after_minutes"]
    short = row["short_below_percent"]
    return Rules(
        late_after_min=float(late) if late is not None else base.late_after_min,
        short_below=short / 100 if short is not None else base.short_below,
        window=base.window,
    )


def facts_of(row: asyncpg.Record, checks: list[asyncpg.Record]) -> VisitFacts:
    """A visit's record as verification reads it."""
    by_kind = {c["kind"]: c for c in checks}
    checked = [c["carer_name"] for c in checks if c["kind"] == "check_in" and c["carer_name"]]
    tasks = row["tasks"]
    return VisitFacts(
        visit_id=row["id"],
        home_id=row["home_id"],
        service=row["plan_name"] or row["service_type"],
        client=row["home_name"],
        carers=tuple(dict.fromkeys([*checked, *row["carer_names"]])),
        tz=row["timezone"],
        planned_start=row["planned_start"],
        planned_end=row["planned_end"],
        tasks=tuple(Task(t["task"], _TASK_DONE.get(t["status"]), t["note"]) for t in tasks),
        check_in=_check(by_kind.get("check_in"), row["checked_in_at"], row["check_in_method"]),
        check_out=_check(by_kind.get("check_out"), row["checked_out_at"], row["check_out_method"]),
        location=row["home_name"],
        geofence_m=row["geofence_m"],
    )


def _check(event: asyncpg.Record | None, at: datetime | None, method: str | None) -> Check | None:
    if at is None or method is None:
        return None
    if event is None:
        return Check(at, method)  # type: ignore[arg-type]
    return Check(
        at=at,
        method=method,  # type: ignore[arg-type]
        received_at=event["arrival_time"],
        distance_m=event["distance_m"],
        accuracy_m=event["accuracy_m"],
        flags=tuple(event["flags"]),
    )


async def verify_due(pool: asyncpg.Pool, options: JobOptions) -> None:
    """The periodic job: judge what is due, in batches until nothing is left."""
    while await run_once(pool, options) >= options.batch:
        pass
