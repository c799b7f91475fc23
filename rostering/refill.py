"""After the breaks: every visit still out offered to every round on the real schedule, cheapest place first.

A visit taken out to make room for a break, or one the search left out, may still fit another round (or a
carer the search left at home). Each is put where the added travel and the continuity surcharge are least,
with all its carers or none, and only where the changed round still holds with the break it owes
(rostering/breaks.py), so nothing put in here can break a rule the rest of the plan keeps.
"""

from __future__ import annotations

from dataclasses import replace

from rostering.breaks import Placed, fitted
from rostering.build import Built
from rostering.dayinput import DayInput, Vehicle, eligible
from rostering.decode import BREAK, Sequence, schedule
from rostering.model import Visit


def _empty(day: DayInput, built: Built, k: int) -> Placed:
    vehicle = day.vehicles[k]
    seq = Sequence(k, (), day.seconds(max(vehicle.shift.start, vehicle.available_from)))
    return Placed(seq, schedule(day, built, seq))


def _may(day: DayInput, visit: Visit, vehicle: Vehicle, avoid: set[str]) -> bool:
    """Whether the carer may do the visit at all in this shift, before any round is tried."""
    start = max(vehicle.shift.start, vehicle.available_from)
    return (
        vehicle.carer.id not in avoid
        and eligible(visit, vehicle.carer)
        and visit.window_end >= start
        and visit.window_start < vehicle.shift.end
    )


def _best(
    day: DayInput, built: Built, rounds: dict[int, Placed], visit: Visit, avoid: set[str]
) -> tuple[float, Placed] | None:
    """The cheapest round and place that takes the visit and still holds, as (added cost, new round)."""
    best: tuple[float, Placed] | None = None
    for k, vehicle in enumerate(day.vehicles):
        if not _may(day, visit, vehicle, avoid):
            continue
        now = rounds.get(k) or _empty(day, built, k)
        surcharge = day.surcharge(visit, vehicle.carer.id, day.keep.get(visit.id, ""))
        ends = [s.end for s in now.rnd.stops]
        for pos in range(len(now.seq.items) + 1):
            if pos and ends[pos - 1] > visit.window_end:
                break  # every later place starts after the window closes
            items = now.seq.items
            found = fitted(day, built, replace(now.seq, items=(*items[:pos], visit.id, *items[pos:])))
            if found is None:
                continue
            cost = found.rnd.travel_s - now.rnd.travel_s + surcharge
            if best is None or cost < best[0]:
                best = (cost, found)
    return best


def refilled(day: DayInput, built: Built, placed: list[Placed], wanted: list[str]) -> list[Placed]:
    """The rounds with each wanted visit (in the order given) put in where it fits at least cost; a
    double-up gets two different carers or stays out."""
    rounds = {p.seq.vehicle: p for p in placed}
    for vid in wanted:
        visit = built.visit_of[vid]
        trial = dict(rounds)
        carers: set[str] = set()
        for _ in range(max(1, visit.carers_needed)):
            found = _best(day, built, trial, visit, carers)
            if found is None:
                break
            trial[found[1].seq.vehicle] = found[1]
            carers.add(day.vehicles[found[1].seq.vehicle].carer.id)
        else:
            rounds = trial
    return [rounds[k] for k in sorted(rounds) if any(i != BREAK for i in rounds[k].seq.items)]
