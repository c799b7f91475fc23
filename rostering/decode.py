"""A solver's answer read back as rounds with their real schedule, and each visit's carers with reasons."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pyvrp

from rostering.build import Built
from rostering.dayinput import DayInput
from rostering.model import Assignment, Round, Stop, StopKind, Visit

BREAK = "__break__"


@dataclass(slots=True, frozen=True)
class Sequence:
    """One vehicle's stops in order (visit ids, or BREAK once breaks are placed), and when it may leave."""

    vehicle: int
    items: tuple[str, ...]
    depart_s: int


def sequences(built: Built, solution: pyvrp.Solution) -> list[Sequence]:
    """Every used vehicle's order of stops, from a PyVRP solution."""
    found: list[Sequence] = []
    for route in solution.routes():
        items = tuple(built.nodes[a.idx].visit_id for a in route.schedule() if a.is_client())
        found.append(Sequence(route.vehicle_type(), items, int(route.start_time())))
    return found


def schedule(day: DayInput, built: Built, seq: Sequence) -> Round:
    """The real times of a round: travel on the real matrix, a break taken where the carer is."""
    vehicle = day.vehicles[seq.vehicle]
    base = built.base[vehicle.carer.travel_mode]
    visits = built.visit_of
    t = max(seq.depart_s, day.seconds(vehicle.available_from), day.seconds(vehicle.shift.start))
    loc = built.start_loc[seq.vehicle]
    travel_total = 0
    stops: list[Stop] = []
    for item in seq.items:
        if item == BREAK:
            first = day.seconds(vehicle.shift.start) + 3 * 3600
            start = max(t, min(first, day.seconds(vehicle.shift.end) - day.weights.break_s))
            end = start + day.weights.break_s
            stops.append(Stop(StopKind.BREAK, None, day.at(t), day.at(start), day.at(end), 0))
            t = end
            continue
        visit = visits[item]
        target = built.visit_loc[item]
        travel = int(base[loc, target])
        arrive = t + travel
        start = max(arrive, earliest_start(day, visit))
        stops.append(
            Stop(
                StopKind.VISIT, item, day.at(arrive), day.at(start), day.at(start + visit.duration_s), travel
            )
        )
        travel_total += travel
        t, loc = start + visit.duration_s, target
    home = int(base[loc, built.home_loc[seq.vehicle]])
    depart = day.at(t)
    if stops and stops[0].kind is StopKind.VISIT:
        # Leave home as late as the first visit allows: waiting on the doorstep is nobody's work.
        opening = stops[0]
        stops[0] = Stop(
            opening.kind, opening.visit_id, opening.start, opening.start, opening.end, opening.travel_s
        )
        depart = opening.start - timedelta(seconds=opening.travel_s)
    elif stops:
        depart = stops[0].arrive
    return Round(
        carer_id=vehicle.carer.id,
        day=vehicle.shift.start.date().isoformat(),
        depart=depart,
        back=day.at(t + home),
        stops=tuple(stops),
        travel_s=travel_total + home,
    )


def earliest_start(day: DayInput, visit: Visit) -> int:
    """The earliest second a visit may start: the pinned meeting time of a double-up, else its window."""
    if visit.carers_needed >= 2 and visit.id in day.pins:
        return day.seconds(day.pins[visit.id])
    return day.seconds(visit.window_start)


def assignments(
    day: DayInput, rounds: list[Round], vehicle_of: dict[str, int]
) -> tuple[list[Assignment], dict[str, list[str]]]:
    """Each covered visit's carers and start, with the reasons; also which carers hold each visit."""
    holders: dict[str, list[str]] = {}
    starts: dict[str, int] = {}
    for rnd in rounds:
        for stop in rnd.stops:
            if stop.visit_id is not None:
                holders.setdefault(stop.visit_id, []).append(rnd.carer_id)
                starts[stop.visit_id] = day.seconds(stop.start)
    out = []
    for visit in day.visits:
        carers = holders.get(visit.id, [])
        if len(carers) < max(1, visit.carers_needed):
            continue
        late = max(0, starts[visit.id] - day.seconds(visit.planned_start))
        out.append(
            Assignment(
                visit.id, tuple(carers), day.at(starts[visit.id]), late, reasons(day, visit, carers, late)
            )
        )
    del vehicle_of
    return out, holders


def reasons(day: DayInput, visit: Visit, carers: list[str], late_s: int) -> tuple[str, ...]:
    """Why these carers: skills, knowing the client, staying on their round, timing, the partner."""
    said: list[str] = []
    for carer in carers:
        known = day.familiarity.get((visit.client_id, carer), 0.0)
        if carer in visit.preferred:
            said.append(f"{carer}: preferred by the care plan")
        elif known >= 1.0:
            said.append(
                f"{carer}: the client's most regular carer of the last {day.weights.history_days} days"
            )
        elif known > 0:
            said.append(f"{carer}: has visited the client in the last {day.weights.history_days} days")
        else:
            said.append(f"{carer}: new to the client")
        if carer in day.keep.get(visit.id, "").split(","):
            said.append(f"{carer}: already had this visit; kept")
    if visit.skills:
        said.append("has the skills: " + ", ".join(sorted(visit.skills)))
    if visit.carers_needed >= 2:
        said.append(f"double-up: {' and '.join(carers)} start together")
    said.append("on time" if late_s <= day.weights.late_grace_s else f"starts {late_s // 60} min after plan")
    return tuple(said)
