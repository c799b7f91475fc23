"""Why a visit was left uncovered, in words a coordinator can act on."""

from __future__ import annotations

from rostering.dayinput import DayInput, Vehicle, eligible
from rostering.model import Visit
from rostering.travel import TravelMatrix


def _hhmm(day: DayInput, seconds: int) -> str:
    return day.at(seconds).strftime("%H:%M")


def _reachable(day: DayInput, travel: TravelMatrix, visit: Visit, vehicle: Vehicle) -> bool:
    """Could this carer, with nothing else to do, start the visit in its window and be home in time?"""
    points = [vehicle.start_at, visit.location, vehicle.carer.home]
    seconds = travel.durations(points, vehicle.carer.travel_mode)
    leave = max(day.seconds(vehicle.shift.start), day.seconds(vehicle.available_from))
    start = max(leave + int(seconds[0, 1]), day.seconds(visit.window_start))
    if visit.carers_needed >= 2 and visit.id in day.pins:
        pin = day.seconds(day.pins[visit.id])
        if start > pin:
            return False
        start = pin
    back = start + visit.duration_s + int(seconds[1, 2])
    return (
        start <= day.seconds(visit.window_end)
        and back <= day.seconds(vehicle.shift.end)
        and back - leave <= vehicle.budget_s
    )


def why_uncovered(day: DayInput, travel: TravelMatrix, visit: Visit, *, half_served: bool = False) -> str:
    """The first reason that explains a visit nobody took."""
    needed = max(1, visit.carers_needed)
    if visit.window_end < visit.window_start:
        return "the time window is empty (it ends before it starts)"
    skilled = [v for v in day.vehicles if visit.skills <= v.carer.skills]
    if len({v.carer.id for v in skilled}) < needed:
        what = ", ".join(sorted(visit.skills)) or "no particular skill"
        have = len({v.carer.id for v in skilled})
        return f"needs {needed} carer(s) with {what}; {have} working that day have it"
    allowed = [v for v in skilled if eligible(visit, v.carer)]
    if len({v.carer.id for v in allowed}) < needed:
        return "the carers with the skills are excluded by the care plan"
    window = f"{_hhmm(day, day.seconds(visit.window_start))}-{_hhmm(day, day.seconds(visit.window_end))}"
    budgeted = [v for v in allowed if v.budget_s >= visit.duration_s]
    if len({v.carer.id for v in budgeted}) < needed:
        return "every eligible carer has used their maximum hours for the week"
    fits = [v for v in budgeted if _reachable(day, travel, visit, v)]
    if len({v.carer.id for v in fits}) < needed:
        return (
            f"no eligible carer works at a time that can reach the client in the window {window} "
            f"and do {visit.duration_s // 60} min"
        )
    if half_served:
        return f"double-up: a second eligible carer could not be freed at {_hhmm(day, _meet(day, visit))}"
    return f"every eligible carer's round is full in the window {window}"


def _meet(day: DayInput, visit: Visit) -> int:
    return day.seconds(day.pins.get(visit.id, visit.planned_start))
