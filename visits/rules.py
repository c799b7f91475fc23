"""The live visit rules: late, missed, short, no check-out; run by a periodic job on an injectable clock.

Each rule's alert is raised at the moment it could first be known (late: the planned start plus the
plan's minutes), not when the job happened to run, and cleared when the condition ends (the carer checks
in or out). The job runs every few seconds (TELECARE_VISITS_RULES_S), so an alert is raised well within a
minute of that moment. The same evaluation runs straight after every check-in and check-out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from uuid import UUID

import asyncpg

from visits import alerting, plan_queries, queries
from visits.recurrence import local_hhmm

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """Now, in UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Rules:
    """A plan's alert rules (migration 0013's defaults)."""

    late_after: timedelta = timedelta(minutes=15)
    missed_after: timedelta | None = None
    short_below_percent: int = 75
    no_checkout_after: timedelta = timedelta(hours=1)
    off: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def of(cls, row: asyncpg.Record) -> Rules:
        """The rules joined to a visit row (plan_queries.visit_with_rules)."""
        missed = row["missed_after_minutes"]
        return cls(
            late_after=timedelta(minutes=row["late_after_minutes"]),
            missed_after=timedelta(minutes=missed) if missed is not None else None,
            short_below_percent=row["short_below_percent"],
            no_checkout_after=timedelta(minutes=row["no_checkout_after_minutes"]),
            off=frozenset(row["alerts_off"]),
        )

    def missed_at(self, visit: asyncpg.Record) -> datetime:
        """When a visit nobody checked in to counts as missed: the end of its window."""
        start: datetime = visit["planned_start"]
        end: datetime = visit["planned_end"]
        return start + self.missed_after if self.missed_after is not None else end


def _hhmm(at: datetime, visit: asyncpg.Record) -> str:
    return local_hhmm(at, visit["timezone"])


async def evaluate(conn: asyncpg.Connection, visit: asyncpg.Record, *, now: datetime) -> None:
    """Raise or clear the visit's rule alerts as things stand at `now` (visit locked, with its rules)."""
    rules = Rules.of(visit)
    if visit["status"] == "cancelled":
        for kind in ("visit_late", "visit_missed", "visit_no_checkout"):
            await alerting.clear(
                conn,
                home_id=visit["home_id"],
                kind=kind,
                subject=visit["id"],
                at=now,
                note="the visit was cancelled",
            )
        return
    if visit["checked_in_at"] is None:
        await _not_checked_in(conn, visit, rules, now)
    else:
        await _checked_in(conn, visit, rules, now)


async def _not_checked_in(
    conn: asyncpg.Connection, visit: asyncpg.Record, rules: Rules, now: datetime
) -> None:
    home, vid, start = visit["home_id"], visit["id"], visit["planned_start"]
    missed_at = rules.missed_at(visit)
    late_at = start + rules.late_after
    planned = f"planned for {_hhmm(start, visit)}"
    if now >= missed_at:
        if visit["status"] == "planned":
            reason = f"nobody checked in by {_hhmm(missed_at, visit)}"
            await queries.set_status(conn, visit_id=vid, status="missed", reason=reason)
        if "visit_missed" not in rules.off:
            await alerting.raise_once(
                conn,
                home_id=home,
                kind="visit_missed",
                subject=vid,
                at=missed_at,
                title="Missed visit",
                explanation=f"Nobody checked in to the visit {planned} at {visit['home_name']} by "
                f"{_hhmm(missed_at, visit)}.",
                evidence=[_evidence(visit)],
            )
        await alerting.clear(
            conn,
            home_id=home,
            kind="visit_late",
            subject=vid,
            at=missed_at,
            note="the visit is now missed (see the missed-visit alert)",
        )
    elif now >= late_at and "visit_late" not in rules.off:
        minutes = int(rules.late_after.total_seconds() // 60)
        await alerting.raise_once(
            conn,
            home_id=home,
            kind="visit_late",
            subject=vid,
            at=late_at,
            title="Visit running late",
            explanation=f"Nobody has checked in to the visit {planned} at {visit['home_name']}, "
            f"{minutes} min after its start.",
            evidence=[_evidence(visit)],
        )


async def _checked_in(conn: asyncpg.Connection, visit: asyncpg.Record, rules: Rules, now: datetime) -> None:
    home, vid = visit["home_id"], visit["id"]
    checked_in: datetime = visit["checked_in_at"]
    late_by = round((checked_in - visit["planned_start"]).total_seconds() / 60)
    note = f"checked in at {_hhmm(checked_in, visit)} ({late_by} min after the planned start)"
    for kind, due, never in (
        ("visit_late", visit["planned_start"] + rules.late_after, "the visit was not late"),
        ("visit_missed", rules.missed_at(visit), "the visit was not missed"),
    ):
        # Raised on what was known at the time, right then; an offline phone's check-in made before
        # the moment shows it was unfounded: withdrawn, with the reason, rather than merely cleared.
        why, resolution = (
            alerting.withdrawn("check-in", _hhmm(checked_in, visit), _hhmm(now, visit), never)
            if checked_in < due
            else (note, "cleared")
        )
        await alerting.clear(
            conn, home_id=home, kind=kind, subject=vid, at=now, note=why, resolution=resolution
        )
    out: datetime | None = visit["checked_out_at"]
    due_out = visit["planned_end"] + rules.no_checkout_after
    if out is None:
        if now >= due_out and "visit_no_checkout" not in rules.off:
            await alerting.raise_once(
                conn,
                home_id=home,
                kind="visit_no_checkout",
                subject=vid,
                at=due_out,
                title="Still checked in long after the visit's end",
                explanation=f"Checked in since {_hhmm(checked_in, visit)}; the visit was planned to end at "
                f"{_hhmm(visit['planned_end'], visit)} and nobody has checked out.",
                evidence=[_evidence(visit)],
            )
        return
    why, resolution = (
        alerting.withdrawn("check-out", _hhmm(out, visit), _hhmm(now, visit), "it was made in time")
        if out < due_out
        else (f"checked out at {_hhmm(out, visit)}", "cleared")
    )
    await alerting.clear(
        conn,
        home_id=home,
        kind="visit_no_checkout",
        subject=vid,
        at=max(out, now) if resolution == "cancelled" else out,
        note=why,
        resolution=resolution,
    )
    planned_s = (visit["planned_end"] - visit["planned_start"]).total_seconds()
    delivered_s = (out - checked_in).total_seconds()
    if delivered_s < planned_s * rules.short_below_percent / 100 and "visit_short" not in rules.off:
        await alerting.raise_once(
            conn,
            home_id=home,
            kind="visit_short",
            subject=vid,
            at=out,
            title="Short visit",
            explanation=f"{round(delivered_s / 60)} min delivered of {round(planned_s / 60)} planned "
            f"({round(100 * delivered_s / planned_s)} %, below {rules.short_below_percent} %).",
            evidence=[_evidence(visit) | {"delivered_minutes": round(delivered_s / 60)}],
        )


def _evidence(visit: asyncpg.Record) -> dict[str, str | None]:
    return {
        "visit_id": str(visit["id"]),
        "planned_start": visit["planned_start"].isoformat(),
        "planned_end": visit["planned_end"].isoformat(),
        "checked_in_at": visit["checked_in_at"].isoformat() if visit["checked_in_at"] else None,
    }


async def evaluate_visit(conn: asyncpg.Connection, *, visit_id: UUID, now: datetime) -> None:
    """Lock the visit, read it with its rules and evaluate it (in the caller's transaction)."""
    visit = await plan_queries.visit_with_rules(conn, visit_id=visit_id)
    if visit is not None:
        await evaluate(conn, visit, now=now)


async def sweep(pool: asyncpg.Pool, *, now: datetime) -> int:
    """Evaluate every visit under way or overdue at `now`, each in its own transaction; how many."""
    async with pool.acquire() as conn:
        candidates = await plan_queries.rule_candidates(conn, now=now)
        for visit_id in candidates:
            async with conn.transaction():
                await evaluate_visit(conn, visit_id=visit_id, now=now)
    return len(candidates)


@dataclass(slots=True)
class RulesJob:
    """The periodic job: a sweep at the clock's now (tests give a clock they move by hand)."""

    pool: asyncpg.Pool
    clock: Clock = system_clock

    async def run_once(self) -> None:
        """One sweep."""
        await sweep(self.pool, now=self.clock())
