"""Recording a check-in or check-out, whatever its path (tag, phone, manual), and what the visit adds up to.

Every event is stored, accepted or not, with its flags: nothing is silently accepted or dropped. A visit's
check-in is its earliest accepted check-in (so an offline phone's check-in that arrives late still counts
from when it happened); it is checked out once every carer who checked in has checked out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
from uuid import UUID

import asyncpg

from kernel.settings import Settings
from visits import alerting, event_queries, plan_queries, queries, rules
from visits.recurrence import local_hhmm

_EARTH_RADIUS_M = 6_371_008.8


@dataclass(frozen=True, slots=True)
class CheckConfig:
    """The settings check-ins are judged by (kernel.settings: visits_*)."""

    geofence_m: int = 150
    max_accuracy_m: float = 100.0
    late_arrival_s: float = 120.0
    tag_early_minutes: int = 60

    @classmethod
    def from_settings(cls, settings: Settings) -> CheckConfig:
        """The visits_* settings."""
        return cls(
            geofence_m=settings.visits_geofence_m,
            max_accuracy_m=settings.visits_max_accuracy_m,
            late_arrival_s=settings.visits_late_arrival_s,
            tag_early_minutes=settings.visits_tag_early_minutes,
        )


@dataclass(frozen=True, slots=True)
class Fix:
    """A phone's location at check-in or check-out, and its accuracy radius."""

    latitude: float
    longitude: float
    accuracy_m: float | None


@dataclass(frozen=True, slots=True)
class Who:
    """Who recorded an event: the carer or coordinator (user), an integration, the system, a door reader."""

    kind: Literal["user", "api_key", "system", "device"]
    id: UUID | None
    name: str


@dataclass(frozen=True, slots=True)
class Check:
    """A check-in or check-out to record."""

    kind: str
    method: str
    carer_id: UUID | None
    event_time: datetime
    arrival_time: datetime
    actor: Who
    carer_name: str = ""
    fix: Fix | None = None
    reason: str = ""
    tag_id: str | None = None
    device_id: UUID | None = None
    reading_seq: int | None = None


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * _EARTH_RADIUS_M * math.asin(math.sqrt(a))


def location_flags(
    fix: Fix | None, home: asyncpg.Record, config: CheckConfig
) -> tuple[list[str], float | None]:
    """A phone fix judged against the home's geofence: its flags and its distance to the home.

    Outside means even the fix's accuracy circle (capped at the largest accuracy trusted) misses the
    fence; a fix vaguer than that is flagged as poor whatever its distance.
    """
    if fix is None:
        return ["no_fix"], None
    if home["latitude"] is None or home["longitude"] is None:
        return [], None  # a home with no location on record cannot be fenced
    distance = distance_m(fix.latitude, fix.longitude, home["latitude"], home["longitude"])
    radius = home["geofence_m"] or config.geofence_m
    accuracy = fix.accuracy_m if fix.accuracy_m is not None else config.max_accuracy_m
    flags = []
    if accuracy > config.max_accuracy_m:
        flags.append("poor_accuracy")
    if distance - min(accuracy, config.max_accuracy_m) > radius:
        flags.append("outside_geofence")
    return flags, distance


def timing_flags(check: Check, config: CheckConfig) -> list[str]:
    """late_arrival when the backend heard of the event well after it happened; manual for a hand entry."""
    flags = []
    if (check.arrival_time - check.event_time).total_seconds() > config.late_arrival_s:
        flags.append("late_arrival")
    if check.method == "manual":
        flags.append("manual")
    return flags


async def record(
    conn: asyncpg.Connection,
    *,
    home: asyncpg.Record,
    visit: asyncpg.Record | None,
    check: Check,
    flags: list[str],
    accepted: bool,
    distance: float | None = None,
) -> asyncpg.Record | None:
    """Store the event; None if its tag reading was stored already (a redelivery)."""
    fix = check.fix
    return await event_queries.insert_event(
        conn,
        visit_id=visit["id"] if visit is not None else None,
        home_id=home["id"],
        organisation_id=home["organisation_id"],
        carer_id=check.carer_id,
        kind=check.kind,
        method=check.method,
        event_time=check.event_time,
        arrival_time=check.arrival_time,
        latitude=fix.latitude if fix else None,
        longitude=fix.longitude if fix else None,
        accuracy_m=fix.accuracy_m if fix else None,
        distance_m=distance,
        flags=sorted(set(flags)),
        accepted=accepted,
        reason=check.reason,
        tag_id=check.tag_id,
        device_id=check.device_id,
        reading_seq=check.reading_seq,
        actor_kind=check.actor.kind,
        actor_id=check.actor.id,
        actor_name=check.actor.name,
    )


async def settle(conn: asyncpg.Connection, visit: asyncpg.Record) -> asyncpg.Record:
    """Bring the visit's check-in, check-out and status in line with its accepted events; the new row."""
    events = await event_queries.accepted_events(conn, visit_id=visit["id"])
    ins = [e for e in events if e["kind"] == "check_in"]
    if not ins:
        return visit
    first_in: dict[UUID | None, datetime] = {}
    for e in ins:
        first_in.setdefault(e["carer_id"], e["event_time"])
    outs: dict[UUID | None, asyncpg.Record] = {}
    for e in events:
        if e["kind"] == "check_out" and e["event_time"] >= first_in.get(e["carer_id"], e["event_time"]):
            outs[e["carer_id"]] = e  # the latest, as events come by event time
    done = all(carer in outs for carer in first_in)
    last_out = max(outs.values(), key=lambda e: e["event_time"]) if done and outs else None
    return await event_queries.settle_visit(
        conn,
        visit_id=visit["id"],
        checked_in_at=ins[0]["event_time"],
        check_in_method=ins[0]["method"],
        checked_out_at=last_out["event_time"] if last_out else None,
        check_out_method=last_out["method"] if last_out else None,
        status="completed" if last_out else "in_progress",
        event_flags=sorted({f for e in events for f in e["flags"]}),
        checked_in_by=[c for c in first_in if c is not None],
    )


async def two_homes(conn: asyncpg.Connection, *, visit: asyncpg.Record, check: Check, zone: str) -> None:
    """Raise carer_two_homes when the carer checking in here is still checked in at another home."""
    if check.kind != "check_in" or check.carer_id is None:
        return
    other = await event_queries.checked_in_elsewhere(
        conn, carer_id=check.carer_id, home_id=visit["home_id"], at=check.event_time
    )
    if other is None:
        return
    since = other["since"]
    await alerting.raise_once(
        conn,
        home_id=visit["home_id"],
        kind="carer_two_homes",
        subject=visit["id"],
        at=check.event_time,
        title="Carer checked in at two homes at once",
        explanation=(
            f"{check.carer_name or 'The carer'} checked in here at {local_hhmm(check.event_time, zone)} "
            f"while still checked in at another visit since {local_hhmm(since, zone)}."
        ),
        evidence=[
            {
                "visit_id": str(visit["id"]),
                "carer_id": str(check.carer_id),
                "other_visit_id": str(other["id"]),
            }
        ],
    )


async def flag_alerts(
    conn: asyncpg.Connection,
    *,
    home: asyncpg.Record,
    event: asyncpg.Record,
    carer_name: str,
    off: frozenset[str] = frozenset(),
) -> None:
    """Alerts for a flagged event: wrong home (or an unknown tag), outside the geofence (unless off)."""
    who = carer_name or "A carer"
    at = event["event_time"]
    hhmm = local_hhmm(at, home["timezone"])
    base = {"event_id": str(event["id"]), "visit_id": str(event["visit_id"]) if event["visit_id"] else None}
    if "visit_wrong_home" in off:
        pass
    elif "unknown_tag" in event["flags"]:
        await alerting.raise_once(
            conn,
            home_id=home["id"],
            kind="visit_wrong_home",
            subject=event["id"],
            at=at,
            title="An unknown tag was tapped at the door",
            explanation=f"Tag {event['tag_id']} belongs to none of this provider's carers ({hhmm}).",
            evidence=[base],
        )
    elif "wrong_home" in event["flags"]:
        await alerting.raise_once(
            conn,
            home_id=home["id"],
            kind="visit_wrong_home",
            subject=event["id"],
            at=at,
            title="Check-in at a home the carer is not assigned to",
            explanation=f"{who} checked in here at {hhmm} with no visit of theirs at this home.",
            evidence=[base],
        )
    if "outside_geofence" in event["flags"] and "visit_outside_geofence" not in off:
        distance = round(event["distance_m"] or 0)
        what = "checked in" if event["kind"] == "check_in" else "checked out"
        await alerting.raise_once(
            conn,
            home_id=home["id"],
            kind="visit_outside_geofence",
            subject=event["id"],
            at=at,
            title=f"Phone {what} away from the home",
            explanation=f"{who} {what} by phone {distance} m from the home at {hhmm}.",
            evidence=[base | {"distance_m": distance, "accuracy_m": event["accuracy_m"]}],
        )


async def apply_check(
    conn: asyncpg.Connection,
    *,
    home: asyncpg.Record,
    visit: asyncpg.Record | None,
    check: Check,
    flags: list[str],
    accepted: bool,
    now: datetime,
    distance: float | None = None,
) -> asyncpg.Record | None:
    """Record the event, settle its visit, run the visit's rules and raise the flags' alerts.

    None (and nothing done) if the event's tag reading was recorded before.
    """
    if visit is not None:
        # One event at a time per visit: settling reads the others' committed events after this lock.
        await queries.get_visit(conn, visit_id=visit["id"], for_update=True)
    event = await record(
        conn, home=home, visit=visit, check=check, flags=flags, accepted=accepted, distance=distance
    )
    if event is None:
        return None
    off: frozenset[str] = frozenset()
    if visit is not None:
        if accepted:
            await settle(conn, visit)
            await two_homes(conn, visit=visit, check=check, zone=home["timezone"])
        await rules.evaluate_visit(conn, visit_id=visit["id"], now=now)
        with_rules = await plan_queries.visit_with_rules(conn, visit_id=visit["id"])
        off = frozenset(with_rules["alerts_off"]) if with_rules is not None else off
    await flag_alerts(conn, home=home, event=event, carer_name=check.carer_name, off=off)
    return event


def tag_window(config: CheckConfig) -> timedelta:
    """How long before a visit's planned start a tag tap still checks in to it."""
    return timedelta(minutes=config.tag_early_minutes)
