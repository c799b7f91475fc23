"""The greedy baseline on a day's own vehicles: where it has each double-up's two carers meet (the solver's
pins), and the floor on coverage, since the coordinator is never handed fewer covered visits than it.

Starting PyVRP from greedy's rounds was tried: the search then stays near them, travel and all (73 h of
travel on the benchmark day against 65 h searched from nothing), so greedy gives the times, not the rounds.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from rostering.dayinput import DayInput
from rostering.greedy import greedy
from rostering.model import Carer, Plan, Problem, Shift
from rostering.travel import TravelMatrix


@dataclass(slots=True, frozen=True)
class GreedyDay:
    """Greedy's plan of a day, and which vehicle each of its rounds is."""

    plan: Plan
    vehicle_of: dict[int, int]  # index in plan.rounds -> vehicle index in the day


def greedy_day(day: DayInput, travel: TravelMatrix) -> GreedyDay:
    """The greedy baseline on a day's vehicles (each from when it is free, within what its week allows)."""
    shifts: dict[str, list[Shift]] = {}
    budget: dict[str, int] = {}
    first: dict[str, Carer] = {}
    for vehicle in day.vehicles:
        cid = vehicle.carer.id
        shifts.setdefault(cid, []).append(
            Shift(max(vehicle.shift.start, vehicle.available_from), vehicle.shift.end)
        )
        budget[cid] = max(budget.get(cid, 0), vehicle.budget_s)
        first.setdefault(cid, vehicle.carer)
    carers = tuple(
        replace(c, shifts=tuple(shifts[cid]), max_week_s=budget[cid], week_worked_s=0)
        for cid, c in first.items()
    )
    result = greedy(Problem(day.visits, carers, (), day.weights), travel)
    vehicle_of: dict[int, int] = {}
    for n, rnd in enumerate(result.rounds):
        for k, vehicle in enumerate(day.vehicles):
            if vehicle.carer.id == rnd.carer_id and vehicle.shift.start <= rnd.depart < vehicle.shift.end:
                vehicle_of[n] = k
                break
    return GreedyDay(result, vehicle_of)


def greedy_pins(start: GreedyDay) -> dict[str, datetime]:
    """Where greedy has each double-up's two carers meet."""
    return {a.visit_id: a.start for a in start.plan.assignments if len(a.carer_ids) >= 2}
