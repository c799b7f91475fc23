"""Small hand-made rostering cases and a checker of every constraint a plan must honour."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from rostering.model import Carer, GeoPoint, Plan, Problem, Shift, StopKind, TravelMode, Visit

TZ = ZoneInfo("Europe/London")
DAY = datetime(2026, 12, 3, tzinfo=TZ)
CENTRE = GeoPoint(52.2053, 0.1218)


def at(hour: int, minute: int = 0) -> datetime:
    """A local time on the test day."""
    return DAY.replace(hour=hour, minute=minute)


def point(east_km: float, north_km: float) -> GeoPoint:
    """A point this many km east and north of the centre."""
    return GeoPoint(CENTRE.lat + north_km / 111.2, CENTRE.lon + east_km / 68.2)


def carer(
    cid: str,
    *,
    home: GeoPoint | None = None,
    skills: frozenset[str] = frozenset(),
    start: int = 7,
    end: int = 15,
    mode: TravelMode = TravelMode.CAR,
    max_week_h: float = 40,
) -> Carer:
    """A carer with one shift on the test day."""
    return Carer(
        cid,
        cid.title(),
        home or point(0, 0),
        skills,
        mode,
        (Shift(at(start), at(end)),),
        max_week_s=round(max_week_h * 3600),
    )


def visit(
    vid: str,
    *,
    client: str | None = None,
    where: GeoPoint | None = None,
    planned: datetime,
    slack_min: int = 30,
    minutes: int = 30,
    carers_needed: int = 1,
    skills: frozenset[str] = frozenset(),
    excluded: frozenset[str] = frozenset(),
) -> Visit:
    """A visit with a window slack_min either side of its planned start."""
    return Visit(
        vid,
        client or f"client-{vid}",
        where or point(1, 1),
        planned,
        planned - timedelta(minutes=slack_min),
        planned + timedelta(minutes=slack_min),
        minutes * 60,
        carers_needed,
        skills,
        frozenset(),
        excluded,
    )


def check(problem: Problem, plan: Plan) -> None:
    """Every constraint: windows, skills, exclusions, shifts, weekly hours, double-ups together, breaks,
    no overlap in a round, and every visit either assigned or listed uncovered with a reason."""
    visits = {v.id: v for v in problem.visits}
    carers = {c.id: c for c in problem.carers}
    assigned = {a.visit_id for a in plan.assignments}
    uncovered = {u.visit_id for u in plan.uncovered}
    assert assigned | uncovered == set(visits), "a visit was silently dropped"
    assert not assigned & uncovered
    assert all(u.reason for u in plan.uncovered)
    for a in plan.assignments:
        v = visits[a.visit_id]
        assert len(set(a.carer_ids)) == max(1, v.carers_needed), a
        assert v.window_start <= a.start <= v.window_end, a
        for cid in a.carer_ids:
            assert v.skills <= carers[cid].skills and cid not in v.excluded, (a, cid)
    starts: dict[str, set[datetime]] = {}
    for r in plan.rounds:
        c = carers[r.carer_id]
        # A carer on a split shift has two stretches that day: the round lies inside one of them.
        assert any(s.start <= r.depart and r.back <= s.end for s in c.shifts), r
        assert r.worked_s <= c.max_week_s - c.week_worked_s, r
        for prev, nxt in zip(r.stops, r.stops[1:], strict=False):
            assert prev.end <= nxt.start, (prev, nxt)
        for s in r.stops:
            if s.kind is StopKind.VISIT:
                assert s.visit_id in assigned
                starts.setdefault(s.visit_id, set()).add(s.start)
        if r.worked_s > problem.weights.break_after_s + problem.weights.break_s:
            assert any(s.kind is StopKind.BREAK for s in r.stops), f"no break in {r.carer_id}'s long round"
    for vid, seen in starts.items():
        assert len(seen) == 1, f"{vid}: the carers of a double-up do not start together"
