"""Carer visits: the care plan's schedule, what actually happened, and the visit as the home sees it."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date, datetime, timedelta

from simulators.layouts import Layout
from simulators.model import Incident, VisitRecord
from simulators.profiles import CarerSlot, Profile
from simulators.timeline import Act, LocalClock, Segment, minutes, sub_rng

MISSED_P = 0.015
LATE_P = 0.12
SHORT_P = 0.1
LATE_AFTER_MIN = 15  # later than this after the planned start counts as late
SHORT_BELOW = 0.75  # less than this share of the planned length counts as short
GAP_MIN = 10  # a carer leaves at least this long before the next visit starts


def carer_tags(seed: int, count: int = 4) -> tuple[str, ...]:
    """The NFC tag ids of the home's care team (a small rota)."""
    rng = sub_rng(seed, "carer-tags")
    return tuple(f"carer-{rng.getrandbits(28):07X}" for _ in range(count))


def _outcome(planned_start: datetime, planned_end: datetime, start: datetime, end: datetime) -> str:
    late = start - planned_start > timedelta(minutes=LATE_AFTER_MIN)
    short = (end - start) < (planned_end - planned_start) * SHORT_BELOW
    return {(False, False): "on_time", (True, False): "late", (False, True): "short"}.get(
        (late, short), "late_short"
    )


def _visit(
    home: str,
    slot: CarerSlot,
    day: date,
    clock: LocalClock,
    rng: random.Random,
    tags: tuple[str, ...],
    forced: bool,
) -> VisitRecord:
    """One visit: arrival jitter, sometimes late, sometimes cut short, sometimes nobody comes."""
    planned_start = clock.at(day, slot.start)
    planned_end = minutes(planned_start, slot.minutes)
    # Every draw is made whatever the outcome, so that forcing a miss does not change later visits.
    tag = rng.choice(tags)
    jitter = min(10.0, max(-10.0, rng.gauss(0, 5)))
    late = rng.uniform(25, 55) if rng.random() < LATE_P else 0.0
    length = slot.minutes * (rng.uniform(0.3, 0.6) if rng.random() < SHORT_P else rng.uniform(0.85, 1.15))
    missed = rng.random() < MISSED_P or forced
    if missed:
        return VisitRecord(home, slot.name, tag, planned_start, planned_end, None, None, "missed")
    start = minutes(planned_start, jitter + late)
    end = minutes(start, length)
    outcome = _outcome(planned_start, planned_end, start, end)
    return VisitRecord(home, slot.name, tag, planned_start, planned_end, start, end, outcome)


def _no_overlap(visits: list[VisitRecord]) -> list[VisitRecord]:
    """A late visit is cut short rather than run into the next one."""
    out: list[VisitRecord] = []
    for index, visit in enumerate(visits):
        nxt = next((v for v in visits[index + 1 :] if v.actual_start is not None), None)
        if visit.actual_start and visit.actual_end and nxt and nxt.actual_start:
            limit = minutes(nxt.actual_start, -GAP_MIN)
            if visit.actual_end > limit:
                end = max(limit, minutes(visit.actual_start, 5))
                outcome = _outcome(visit.planned_start, visit.planned_end, visit.actual_start, end)
                visit = replace(visit, actual_end=end, outcome=outcome)
        out.append(visit)
    return out


def plan_visits(
    *,
    home: str,
    profile: Profile,
    clock: LocalClock,
    start: date,
    days: int,
    seed: int,
    force_missed: frozenset[tuple[int, str]] = frozenset(),
) -> list[VisitRecord]:
    """Every planned visit of the period with its outcome; force_missed holds (day index, slot name)."""
    tags = carer_tags(seed)
    visits: list[VisitRecord] = []
    for index in range(days):
        day = start + timedelta(days=index)
        rng = sub_rng(seed, "visits", index)
        for slot in profile.carers:
            if day.weekday() in slot.weekdays:
                forced = (index, slot.name) in force_missed
                visits.append(_visit(home, slot, day, clock, rng, tags, forced))
    return _no_overlap(visits)


def missed_incidents(visits: list[VisitRecord]) -> list[Incident]:
    """A missed_visit label for every visit nobody came to, over its planned window."""
    return [
        Incident(v.home, "missed_visit", v.planned_start, v.planned_end, detail=f"{v.slot} {v.tag_id}")
        for v in visits
        if v.missed
    ]


def visit_segments(visit: VisitRecord, profile: Profile, layout: Layout, rng: random.Random) -> list[Segment]:
    """The resident's time with the carer: tap in at the door, the care tasks room by room, tap out."""
    if visit.actual_start is None or visit.actual_end is None:
        return []
    slot = next(s for s in profile.carers if s.name == visit.slot)
    rooms = set(layout.room_names())
    tasks = [(room, share) for room, share in slot.tasks if room in rooms] or [("lounge", 1.0)]
    total = (visit.actual_end - visit.actual_start).total_seconds() / 60
    greet = min(2.0, total / 6)
    body = total - 2 * greet
    tag = f"tag:{visit.tag_id}"
    # A carer who checks in (or out) by phone, or forgets to check out, taps nothing at the door.
    arrive, leave = (tag if visit.tapped(i) else "carer" for i in (0, 1))
    out = [Segment(visit.actual_start, minutes(visit.actual_start, greet), "hallway", Act.GREET, arrive)]
    shares = sum(share for _, share in tasks)
    for room, share in tasks:
        begin = out[-1].end
        out.append(Segment(begin, minutes(begin, body * share / shares), room, Act.CARER, visit.slot))
    out.append(Segment(out[-1].end, visit.actual_end, "hallway", Act.GREET, leave))
    return out
