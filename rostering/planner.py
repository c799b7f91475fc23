"""A roster for a date range: day by day, each day knowing who the earlier days sent where."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import date, timedelta

from rostering.dayinput import DayInput, Vehicle, familiarity
from rostering.figures import figures
from rostering.model import Assignment, PastVisit, Plan, Problem, Round, Uncovered
from rostering.solve import day_origin, solve_day
from rostering.travel import TravelMatrix

Progress = Callable[[float, str], None]


def _quiet(_fraction: float, _message: str) -> None:
    return None


def days_of(problem: Problem) -> list[date]:
    """The local dates the problem's visits fall on, in order."""
    return sorted({v.planned_start.date() for v in problem.visits})


def _vehicles(problem: Problem, day: date, worked: dict[tuple[str, int], int]) -> list[Vehicle]:
    out = []
    week = day.isocalendar()[1]
    for carer in problem.carers:
        for shift in carer.shifts:
            if shift.start.date() != day:
                continue
            used = worked.get((carer.id, week), carer.week_worked_s)
            budget = max(0, carer.max_week_s - used)
            out.append(Vehicle(carer, shift, carer.home, shift.start, budget))
    return out


def plan(
    problem: Problem,
    travel: TravelMatrix,
    *,
    time_limit_s: float = 30.0,
    seed: int = 0,
    iterations: int | None = None,
    progress: Progress = _quiet,
) -> Plan:
    """Every visit of the range assigned or explained, every carer's round in order, with the figures;
    `iterations` also stops each day's search at that count, which makes a run repeatable."""
    history = list(problem.history)
    worked: dict[tuple[str, int], int] = {}
    rounds: list[Round] = []
    made: list[Assignment] = []
    uncovered: list[Uncovered] = []
    days = days_of(problem)
    preferred: dict[str, frozenset[str]] = defaultdict(frozenset)
    for v in problem.visits:
        preferred[v.client_id] = preferred[v.client_id] | v.preferred
    for n, day in enumerate(days):
        progress(n / max(1, len(days)), f"planning {day.isoformat()}")
        visits = tuple(v for v in problem.visits if v.planned_start.date() == day)
        vehicles = _vehicles(problem, day, worked)
        if not vehicles:
            uncovered.extend(Uncovered(v.id, "no carer works that day") for v in visits)
            continue
        since = min(v.window_start for v in visits) - timedelta(days=problem.weights.history_days)
        origin = day_origin(visits, [x.shift.start for x in vehicles])
        day_input = DayInput(
            origin=origin,
            visits=visits,
            vehicles=tuple(vehicles),
            weights=problem.weights,
            familiarity=familiarity(history, preferred, since=since),
        )
        result = solve_day(day_input, travel, time_limit_s=time_limit_s, seed=seed, iterations=iterations)
        rounds.extend(result.rounds)
        made.extend(result.assignments)
        uncovered.extend(result.uncovered)
        week = day.isocalendar()[1]
        for r in result.rounds:
            carer = next(c for c in problem.carers if c.id == r.carer_id)
            worked[(r.carer_id, week)] = worked.get((r.carer_id, week), carer.week_worked_s) + r.worked_s
        by_id = {v.id: v for v in visits}
        for a in result.assignments:
            # What was just planned counts as history for the next days: few distinct carers per week.
            history.extend(PastVisit(by_id[a.visit_id].client_id, c, a.start) for c in a.carer_ids)
    progress(1.0, "done")
    stats = figures(problem.visits, rounds, made, problem.history, problem.weights)
    return Plan(tuple(rounds), tuple(made), tuple(uncovered), stats, solver="pyvrp")
