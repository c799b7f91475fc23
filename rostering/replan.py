"""A carer calls in sick: the rest of the day re-planned, every other round changed only where it must be."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from rostering.dayinput import DayInput, Vehicle, familiarity
from rostering.decode import reasons
from rostering.figures import figures
from rostering.model import Assignment, Carer, Plan, Problem, Round, Stop, StopKind, Uncovered, Visit
from rostering.solve import day_origin, solve_day
from rostering.travel import TravelMatrix

KEEP_WEIGHT_S = 4 * 3600  # moving a visit off a round costs as much as four hours of travel
RETIMED_S = 5 * 60


@dataclass(slots=True, frozen=True)
class Change:
    """What happened to one carer's round."""

    carer_id: str
    removed: tuple[str, ...]
    added: tuple[str, ...]
    retimed: tuple[str, ...]  # kept, but starting more than five minutes earlier or later


@dataclass(slots=True, frozen=True)
class Replan:
    """The new plan and what changed."""

    plan: Plan
    changes: tuple[Change, ...]
    orphaned: tuple[str, ...]  # the absent carer's visits that had to move
    summary: str


def _split(rnd: Round, at: datetime) -> tuple[list[Stop], list[Stop]]:
    done = [s for s in rnd.stops if s.start < at]
    return done, [s for s in rnd.stops if s.start >= at]


def _vehicle(carer: Carer, rnd: Round | None, at: datetime, visits: dict[str, Visit]) -> Vehicle | None:
    shifts = [s for s in carer.shifts if s.start.date() == at.date() and s.end > at]
    if not shifts:
        return None
    shift = shifts[0]
    done, _ = _split(rnd, at) if rnd else ([], [])
    last = next((s for s in reversed(done) if s.visit_id), None)
    where = visits[last.visit_id].location if last and last.visit_id else carer.home
    free = max(at, done[-1].end) if done else max(at, shift.start)
    spent = int((done[-1].end - rnd.depart).total_seconds()) if done and rnd else 0
    budget = max(0, carer.max_week_s - carer.week_worked_s - spent)
    return Vehicle(carer, shift, where, free, budget)


def _join(old: Round | None, new: Round | None, at: datetime, carer_id: str, day: str) -> Round | None:
    done = _split(old, at)[0] if old else []
    if not done:
        return new
    if new is None:
        back = done[-1].end
        assert old is not None
        return replace(old, stops=tuple(done), back=back + timedelta(seconds=0))
    assert old is not None
    travel = sum(s.travel_s for s in done) + new.travel_s
    return Round(carer_id, day, old.depart, new.back, tuple(done) + new.stops, travel)


def _changes(before: dict[str, Round], after: dict[str, Round]) -> list[Change]:
    out = []
    for carer in sorted(set(before) | set(after)):
        old = {s.visit_id: s.start for s in (before[carer].stops if carer in before else ()) if s.visit_id}
        new = {s.visit_id: s.start for s in (after[carer].stops if carer in after else ()) if s.visit_id}
        removed = tuple(sorted(v for v in old if v not in new))
        added = tuple(sorted(v for v in new if v not in old))
        retimed = tuple(
            sorted(v for v in old if v in new and abs((new[v] - old[v]).total_seconds()) > RETIMED_S)
        )
        if removed or added or retimed:
            out.append(Change(carer, removed, added, retimed))
    return out


def replan_absence(
    problem: Problem,
    current: Plan,
    *,
    carer_id: str,
    at: datetime,
    travel: TravelMatrix,
    time_limit_s: float = 10.0,
    seed: int = 0,
) -> Replan:
    """Re-plan what is left of `at`'s day without carer_id; visits already started stay as they were."""
    day = at.date().isoformat()
    visits = {v.id: v for v in problem.visits}
    today = {r.carer_id: r for r in current.rounds if r.day == day}
    open_visits: dict[str, list[str]] = {}
    for rnd in today.values():
        for stop in _split(rnd, at)[1]:
            if stop.visit_id:
                open_visits.setdefault(stop.visit_id, []).append(rnd.carer_id)
    orphaned = tuple(sorted(v for v, cs in open_visits.items() if carer_id in cs))
    vehicles = [
        veh
        for c in problem.carers
        if c.id != carer_id and (veh := _vehicle(c, today.get(c.id), at, visits)) is not None
    ]
    todo = tuple(visits[v] for v in open_visits)
    starts = {s.visit_id: s.start for r in today.values() for s in r.stops if s.visit_id}
    pins = {v.id: starts[v.id] for v in todo if v.carers_needed >= 2}
    keep = {v: ",".join(c for c in cs if c != carer_id) for v, cs in open_visits.items()}
    day_input = DayInput(
        origin=day_origin(todo, [at]) if todo else at,
        visits=todo,
        vehicles=tuple(vehicles),
        weights=problem.weights,
        familiarity=familiarity(problem.history, {}, since=at - timedelta(days=problem.weights.history_days)),
        keep={v: c for v, c in keep.items() if c},
        keep_weight=KEEP_WEIGHT_S * problem.weights.travel,
        pins=pins,
    )
    result = solve_day(day_input, travel, time_limit_s=time_limit_s, seed=seed) if todo and vehicles else None
    fresh = {r.carer_id: r for r in (result.rounds if result else ())}
    after: dict[str, Round] = {}
    for carer in set(today) | set(fresh):
        joined = _join(today.get(carer), fresh.get(carer), at, carer, day)
        if joined is not None:
            after[carer] = joined
    found = result.uncovered if result else ()
    return _assemble(problem, current, day, today, after, orphaned, found, carer_id)


def _assemble(
    problem: Problem,
    current: Plan,
    day: str,
    before: dict[str, Round],
    after: dict[str, Round],
    orphaned: tuple[str, ...],
    uncovered: tuple[Uncovered, ...],
    absent: str,
) -> Replan:
    visits = {v.id: v for v in problem.visits}
    rounds = [r for r in current.rounds if r.day != day] + sorted(after.values(), key=lambda r: r.carer_id)
    holders: dict[str, list[tuple[str, datetime]]] = {}
    for rnd in rounds:
        for s in rnd.stops:
            if s.kind is StopKind.VISIT and s.visit_id:
                holders.setdefault(s.visit_id, []).append((rnd.carer_id, s.start))
    made = []
    for vid, held in holders.items():
        visit = visits[vid]
        start = held[0][1]
        late = max(0, int((start - visit.planned_start).total_seconds()))
        carers = [c for c, _ in held]
        said = ("re-planned: absence", *_why(problem, visit, carers, late))
        made.append(
            Assignment(vid, tuple(carers), start, late, said if vid in orphaned else _kept(current, vid))
        )
    covered = {a.visit_id for a in made}
    left = [u for u in current.uncovered if u.visit_id not in covered]
    left += [
        u for u in uncovered if u.visit_id not in covered and u.visit_id not in {x.visit_id for x in left}
    ]
    changes = _changes(before, after)
    stats = figures(problem.visits, rounds, made, problem.history, problem.weights)
    others = [c for c in changes if c.carer_id != absent and (c.removed or c.added)]
    summary = (
        f"{len(orphaned)} visit(s) moved off the absent carer's round; "
        f"{len(others)} other round(s) changed; "
        f"{len([u for u in uncovered if u.visit_id in orphaned])} left uncovered"
    )
    plan = Plan(tuple(rounds), tuple(made), tuple(left), stats, solver=current.solver)
    return Replan(plan, tuple(changes), orphaned, summary)


def _kept(current: Plan, visit_id: str) -> tuple[str, ...]:
    for a in current.assignments:
        if a.visit_id == visit_id:
            return a.reasons
    return ()


def _why(problem: Problem, visit: Visit, carers: list[str], late: int) -> tuple[str, ...]:
    since = visit.planned_start - timedelta(days=problem.weights.history_days)
    fam = familiarity(problem.history, {visit.client_id: visit.preferred}, since=since)
    probe = DayInput(visit.planned_start, (visit,), (), problem.weights, familiarity=fam)
    return reasons(probe, visit, carers, late)
