"""One day solved with PyVRP, double-ups made whole, breaks placed, and every visit covered or explained."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import pyvrp
from pyvrp.stop import MaxIterations, MaxRuntime, MultipleCriteria, StoppingCriterion

from rostering.breaks import rested
from rostering.build import Built, build
from rostering.dayinput import DayInput, pin_time
from rostering.decode import Sequence, assignments, sequences
from rostering.diagnose import why_uncovered
from rostering.model import Assignment, Round, Uncovered, Visit
from rostering.refill import refilled
from rostering.repair import repaired
from rostering.travel import TravelMatrix
from rostering.warm import GreedyDay, greedy_day, greedy_pins

log = logging.getLogger(__name__)


@dataclass(slots=True, frozen=True)
class DayResult:
    """A day's rounds, assignments and the visits nobody could take."""

    rounds: tuple[Round, ...]
    assignments: tuple[Assignment, ...]
    uncovered: tuple[Uncovered, ...]
    half_served: tuple[str, ...]


def _search(
    built: Built, seconds: float, seed: int, order: list[str], iterations: int | None
) -> pyvrp.Solution:
    """PyVRP's best in the time, then repaired: lone halves completed or taken out, left-out visits put in."""
    stop: StoppingCriterion = MaxRuntime(max(0.1, seconds))
    if iterations is not None:
        # Stopped by a count, the same seed gives the same plan however loaded the machine is.
        stop = MultipleCriteria([stop, MaxIterations(iterations)])
    result = pyvrp.solve(built.data, stop=stop, seed=seed, display=False)
    best = repaired(built, result.best, order)
    log.info(
        "rostering: %d clients in %.1f s: %d served (%d after repair), %d iterations",
        built.data.num_clients,
        seconds,
        result.best.num_clients(),
        best.num_clients(),
        result.num_iterations,
    )
    return best


def _feasible_sequences(built: Built, best: pyvrp.Solution) -> list[Sequence]:
    """The solution's rounds; one with time warp (the search ran out of time) is never handed on."""
    if not best.is_feasible():
        log.warning("rostering: best solution infeasible; dropping its infeasible rounds")
    return [
        seq for seq, route in zip(sequences(built, best), best.routes(), strict=True) if route.is_feasible()
    ]


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


def _prepared(day: DayInput, start: GreedyDay) -> DayInput:
    """Each double-up pinned where greedy has its carers meet (else at its planned start), so both are
    there together; every visit may start late, priced by the lateness weight."""
    pins = {v.id: pin_time(v) for v in day.visits if v.carers_needed >= 2}
    singles = frozenset(v.id for v in day.visits if v.carers_needed < 2)
    return replace(day, pins={**pins, **greedy_pins(start), **day.pins}, late_allowed=singles)


def solve_day(
    day: DayInput, travel: TravelMatrix, *, time_limit_s: float, seed: int = 0, iterations: int | None = None
) -> DayResult:
    """Plan a day: double-ups pinned where the greedy baseline has their carers meet, PyVRP's answer
    repaired (a lone half completed or taken out, left-out visits put where they fit), and never fewer
    visits covered than greedy covers. Whatever is uncovered is explained."""
    began = time.monotonic()
    start = greedy_day(day, travel)
    day = _prepared(day, start)
    built = build(day, travel)
    order = [v.id for v in sorted(day.visits, key=lambda v: v.planned_start)]
    left = time_limit_s - (time.monotonic() - began)
    best = _search(built, max(0.5, left), seed, order, iterations)
    seqs = _feasible_sequences(built, best)
    lone = _lone_halves(day, seqs)
    placed, taken = rested(day, built, _without(seqs, lone))
    # Whatever is out now (taken out for a break, lone halves, left out by the search) is offered again.
    held = {i for p in placed for i in p.seq.items}
    placed = refilled(day, built, placed, [vid for vid in order if vid not in held])
    rounds = [p.rnd for p in placed]
    made, _holders = assignments(day, rounds, {})
    log.info(
        "rostering: search result %d covered, %.1f h travel (%d visits taken out for breaks, then %d "
        "offered again; %.1f s in all)",
        len(made),
        sum(r.travel_s for r in rounds) / 3600,
        len(taken),
        len(order) - len(held),
        time.monotonic() - began,
    )
    if len(made) < len(start.plan.assignments) and _from_home(day):
        # A time-limited search (on a loaded machine, say) can still end below the baseline; the
        # coordinator is never handed fewer covered visits than greedy's, so its rounds are kept.
        log.warning(
            "rostering: the search covered %d < greedy's %d; greedy's day kept",
            len(made),
            len(start.plan.assignments),
        )
        rounds = list(start.plan.rounds)
        made, _holders = assignments(day, rounds, {})
        lone = set()
    done = {a.visit_id for a in made}
    lone -= done
    uncovered = [
        Uncovered(v.id, why_uncovered(day, travel, v, half_served=v.id in lone))
        for v in day.visits
        if v.id not in done
    ]
    return DayResult(tuple(rounds), tuple(made), tuple(uncovered), tuple(sorted(lone)))


def _from_home(day: DayInput) -> bool:
    """Whether every carer starts the day from home (greedy plans from there; a re-plan starts elsewhere)."""
    return all(v.start_at == v.carer.home and v.available_from <= v.shift.start for v in day.vehicles)


def day_origin(visits: tuple[Visit, ...], starts: list[datetime]) -> datetime:
    """Second 0 of a day's clock: an hour before anything happens, on the whole minute."""
    first = min([v.window_start for v in visits] + starts)
    return (first - timedelta(hours=1)).replace(second=0, microsecond=0)
