"""One day solved with PyVRP, double-ups made whole, and every visit either covered or explained."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import pyvrp
from pyvrp.stop import MaxRuntime

from rostering.build import Built, build
from rostering.dayinput import DayInput, pin_time
from rostering.decode import BREAK, Sequence, assignments, schedule, sequences
from rostering.diagnose import why_uncovered
from rostering.model import Assignment, Round, Uncovered, Visit
from rostering.travel import TravelMatrix

log = logging.getLogger(__name__)


@dataclass(slots=True, frozen=True)
class DayResult:
    """A day's rounds, assignments and the visits nobody could take."""

    rounds: tuple[Round, ...]
    assignments: tuple[Assignment, ...]
    uncovered: tuple[Uncovered, ...]
    half_served: tuple[str, ...]


def _run(day: DayInput, travel: TravelMatrix, seconds: float, seed: int) -> tuple[Built, list[Sequence]]:
    built = build(day, travel)
    result = pyvrp.solve(built.data, stop=MaxRuntime(max(0.1, seconds)), seed=seed, display=False)
    if not result.best.is_feasible():
        # Every visit is optional, so the empty plan is feasible; an infeasible best means the search had
        # too little time. Nothing infeasible is ever handed on: the routes with time warp are dropped.
        log.warning("rostering: best solution infeasible after %.1f s; dropping its infeasible rounds", seconds)
    seqs = [
        seq
        for seq, route in zip(sequences(built, result.best), result.best.routes(), strict=True)
        if route.is_feasible()
    ]
    return built, seqs


def _lone_halves(day: DayInput, seqs: list[Sequence]) -> set[str]:
    pairs = {v.id for v in day.visits if v.carers_needed >= 2}
    count: dict[str, int] = {}
    for seq in seqs:
        for item in set(seq.items):
            if item in pairs:
                count[item] = count.get(item, 0) + 1
    return {vid for vid in pairs if count.get(vid, 0) == 1}


def _without(seqs: list[Sequence], drop: set[str]) -> list[Sequence]:
    return [replace(s, items=tuple(i for i in s.items if i not in drop)) for s in seqs]


def _alternative_pins(day: DayInput, lone: set[str]) -> dict[str, datetime]:
    pins = dict(day.pins)
    for visit in day.visits:
        if visit.id in lone:
            # Try the other end of the window: the second carer is usually free earlier or later.
            current = pins[visit.id]
            middle = visit.window_start + (visit.window_end - visit.window_start) / 2
            pins[visit.id] = visit.window_end if current <= middle else visit.window_start
    return pins


def solve_day(day: DayInput, travel: TravelMatrix, *, time_limit_s: float, seed: int = 0) -> DayResult:
    """Plan a day: solve, repair double-ups that found only one carer (re-pinned once), explain the rest."""
    pins = {v.id: day.pins.get(v.id, pin_time(v)) for v in day.visits if v.carers_needed >= 2}
    day = replace(day, pins=pins)
    began = time.monotonic()
    built, seqs = _run(day, travel, time_limit_s * (0.7 if pins else 1.0), seed)
    lone = _lone_halves(day, seqs)
    if lone:
        retry = replace(day, pins=_alternative_pins(day, lone))
        left = time_limit_s - (time.monotonic() - began)
        built2, seqs2 = _run(retry, travel, max(1.0, left), seed + 1)
        lone2 = _lone_halves(retry, seqs2)
        if _covered(retry, seqs2, lone2) > _covered(day, seqs, lone):
            day, built, seqs, lone = retry, built2, seqs2, lone2
    seqs = _without(seqs, lone)
    ids = _ids(day)
    rounds = [_scheduled(day, built, s) for s in seqs if any(i in ids for i in s.items)]
    made, holders = assignments(day, rounds, {})
    done = {a.visit_id for a in made}
    uncovered = [
        Uncovered(v.id, why_uncovered(day, travel, v, half_served=v.id in lone))
        for v in day.visits
        if v.id not in done
    ]
    del holders
    return DayResult(tuple(rounds), tuple(made), tuple(uncovered), tuple(sorted(lone)))


def _scheduled(day: DayInput, built: Built, seq: Sequence) -> Round:
    rnd = schedule(day, built, seq)
    if BREAK in seq.items and rnd.worked_s - day.weights.break_s <= day.weights.break_after_s:
        # The shift was long but the round is not: no break is owed, so none is kept.
        rnd = schedule(day, built, replace(seq, items=tuple(i for i in seq.items if i != BREAK)))
    return rnd


def _ids(day: DayInput) -> set[str]:
    return {v.id for v in day.visits}


def _covered(day: DayInput, seqs: list[Sequence], lone: set[str]) -> int:
    seen = {i for s in seqs for i in s.items} - lone
    return sum(1 for v in day.visits if v.id in seen)


def day_origin(visits: tuple[Visit, ...], starts: list[datetime]) -> datetime:
    """Second 0 of a day's clock: an hour before anything happens, on the whole minute."""
    first = min([v.window_start for v in visits] + starts)
    return (first - timedelta(hours=1)).replace(second=0, microsecond=0)
