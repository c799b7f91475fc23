"""A round's real schedule checked, and its break moved to where it fits when the solver's guess did not."""

from __future__ import annotations

from dataclasses import replace

from rostering.build import Built
from rostering.dayinput import DayInput
from rostering.decode import BREAK, Sequence, schedule
from rostering.model import Round, StopKind


def holds(day: DayInput, seq: Sequence, rnd: Round) -> bool:
    """Every visit starts in its window (a double-up at its meeting time) and the carer is home in time."""
    vehicle = day.vehicles[seq.vehicle]
    visits = {v.id: v for v in day.visits}
    for stop in rnd.stops:
        if stop.kind is StopKind.BREAK or stop.visit_id is None:
            continue
        visit = visits[stop.visit_id]
        latest = day.pins[visit.id] if visit.carers_needed >= 2 else visit.window_end
        if stop.start > latest:
            return False
    return rnd.back <= vehicle.shift.end and rnd.worked_s <= vehicle.budget_s


def scheduled(day: DayInput, built: Built, seq: Sequence) -> tuple[Round, bool]:
    """The round with a break where it fits; False when a long round found no place for one."""
    rnd = schedule(day, built, seq)
    if BREAK not in seq.items:
        return rnd, True
    bare = replace(seq, items=tuple(i for i in seq.items if i != BREAK))
    if rnd.worked_s - day.weights.break_s <= day.weights.break_after_s:
        # The shift was long but the round is not: no break is owed, so none is kept.
        return schedule(day, built, bare), True
    if holds(day, seq, rnd):
        return rnd, True
    for pos in range(1, len(bare.items)):
        moved = replace(bare, items=(*bare.items[:pos], BREAK, *bare.items[pos:]))
        candidate = schedule(day, built, moved)
        if holds(day, moved, candidate):
            return candidate, True
    return schedule(day, built, bare), False
