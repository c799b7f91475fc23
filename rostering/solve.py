"""One day solved with PyVRP, double-ups made whole, and every visit either covered or explained."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import pyvrp
from pyvrp.stop import MaxRuntime

from rostering.breaks import scheduled
from rostering.build import Built, NodeRef, build
from rostering.dayinput import DayInput, pin_time
from rostering.decode import Sequence, assignments, sequences
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
    no_break: tuple[str, ...] = ()  # carers whose long round found no place for a break (reported)


def _run(
    day: DayInput, travel: TravelMatrix, seconds: float, seed: int, warm: list[Sequence] | None = None
) -> tuple[Built, list[Sequence]]:
    built = build(day, travel)
    initial = _warm_start(built, warm) if warm else None
    result = pyvrp.solve(
        built.data, stop=MaxRuntime(max(0.1, seconds)), seed=seed, display=False, initial_solution=initial
    )
    if not result.best.is_feasible():
        # Every visit is optional, so the empty plan is feasible; an infeasible best means the search had
        # too little time. Nothing infeasible is ever handed on: the routes with time warp are dropped.
        log.warning(
            "rostering: best solution infeasible after %.1f s; dropping its infeasible rounds", seconds
        )
    seqs = [
        seq
        for seq, route in zip(sequences(built, result.best), result.best.routes(), strict=True)
        if route.is_feasible()
    ]
    log.info(
        "rostering: pass over %d clients in %.1f s: %d served, %d iterations, cost %d",
        built.data.num_clients,
        seconds,
        sum(len(s.items) for s in seqs),
        result.num_iterations,
        result.cost(),
    )
    return built, seqs


def _warm_start(built: Built, warm: list[Sequence]) -> pyvrp.Solution:
    """The previous pass's rounds, on this pass's client numbering (what no longer exists is left out)."""
    index = {node: i for i, node in enumerate(built.nodes)}
    routes = []
    for seq in warm:
        visits = []
        for ref in seq.refs:
            late = replace(ref, late_tier=True)
            # A visit the first pass started late sits on its late tier now, if it has one.
            if late in index and _started_late(built, seq, ref):
                visits.append(index[late])
            elif ref in index:
                visits.append(index[ref])
        if visits:
            routes.append(pyvrp.Route(built.data, visits, seq.vehicle))
    return pyvrp.Solution(built.data, routes)


def _started_late(built: Built, seq: Sequence, ref: NodeRef) -> bool:
    late_node = built.nodes.index(replace(ref, late_tier=True))
    at = seq.starts[seq.refs.index(ref)]
    return at >= built.data.clients()[late_node].tw_early


def _lone_halves(day: DayInput, seqs: list[Sequence]) -> set[str]:
    pairs = {v.id for v in day.visits if v.carers_needed >= 2}
    count: dict[str, int] = {}
    for seq in seqs:
        for item in set(seq.items):
            if item in pairs:
                count[item] = count.get(item, 0) + 1
    return {vid for vid in pairs if count.get(vid, 0) == 1}


def _drop_refs(seqs: list[Sequence], drop: set[NodeRef]) -> list[Sequence]:
    return [_kept(s, [k for k, ref in enumerate(s.refs) if ref not in drop]) for s in seqs]


def _without(seqs: list[Sequence], drop: set[str]) -> list[Sequence]:
    return [_kept(s, [k for k, item in enumerate(s.items) if item not in drop]) for s in seqs]


def _kept(seq: Sequence, keep: list[int]) -> Sequence:
    """The sequence with only the stops at these positions (items, refs and starts stay aligned)."""
    return replace(
        seq,
        items=tuple(seq.items[k] for k in keep),
        refs=tuple(seq.refs[k] for k in keep),
        starts=tuple(seq.starts[k] for k in keep),
    )


def _meeting_times(day: DayInput, seqs: list[Sequence]) -> tuple[dict[str, datetime], set[NodeRef]]:
    """Where each double-up's carers meet: the start the first pass gave one half, which is kept where it
    is; the other half (returned, to be taken out of the warm start) must find a carer free then."""
    starts: dict[str, list[tuple[NodeRef, int]]] = {}
    for s in seqs:
        for ref, at in zip(s.refs, s.starts, strict=True):
            if ref.visit_id is not None:
                starts.setdefault(ref.visit_id, []).append((ref, at))
    pins: dict[str, datetime] = {}
    moved: set[NodeRef] = set()
    for visit in day.visits:
        if visit.carers_needed < 2:
            continue
        found = sorted(starts.get(visit.id, []), key=lambda ra: ra[1])
        pins[visit.id] = day.at(found[0][1]) if found else pin_time(visit)
        moved.update(ref for ref, _ in found[1:])
    return pins, moved


def solve_day(day: DayInput, travel: TravelMatrix, *, time_limit_s: float, seed: int = 0) -> DayResult:
    """Plan a day in two passes. First for coverage: every visit with its whole window, a double-up's two
    halves each anywhere in it. Then, warm-started from that: each double-up's halves pinned to one meeting
    time between the two starts the first pass found (so both carers are there together), and only the
    visits the first pass started late (or left out) may start late, priced by the lateness weight. A
    double-up that still finds one carer is dropped whole; whatever is uncovered is explained."""
    began = time.monotonic()
    doubles = any(v.carers_needed >= 2 for v in day.visits)
    built, seqs = _run(day, travel, time_limit_s * 0.6, seed)
    late_or_dropped = _late_or_dropped(day, seqs)
    if doubles or late_or_dropped:
        meet, moved = _meeting_times(day, seqs)
        pinned = replace(day, pins={**meet, **day.pins}, late_allowed=late_or_dropped)
        left = time_limit_s - (time.monotonic() - began)
        # The warm start keeps one half of each double-up where it is (its start is the pin) and leaves the
        # other out, so that it stays feasible; the search finds that half a carer free at the pin.
        built, seqs = _run(pinned, travel, max(1.0, left), seed + 1, warm=_drop_refs(seqs, moved))
        day = pinned
    lone = _lone_halves(day, seqs)
    seqs = _without(seqs, lone)
    ids = _ids(day)
    rounds: list[Round] = []
    no_break: list[str] = []
    for seq in seqs:
        if any(i in ids for i in seq.items):
            rnd, rested = scheduled(day, built, seq)
            rounds.append(rnd)
            if not rested:
                no_break.append(rnd.carer_id)
    made, _holders = assignments(day, rounds, {})
    done = {a.visit_id for a in made}
    uncovered = [
        Uncovered(v.id, why_uncovered(day, travel, v, half_served=v.id in lone))
        for v in day.visits
        if v.id not in done
    ]
    return DayResult(tuple(rounds), tuple(made), tuple(uncovered), tuple(sorted(lone)), tuple(no_break))


def _ids(day: DayInput) -> set[str]:
    return {v.id for v in day.visits}


def _late_or_dropped(day: DayInput, seqs: list[Sequence]) -> frozenset[str]:
    started = {item: at for s in seqs for item, at in zip(s.items, s.starts, strict=True)}
    out = set()
    for v in day.visits:
        if v.carers_needed >= 2:
            continue
        if v.id not in started or started[v.id] > day.seconds(v.planned_start) + day.weights.late_grace_s:
            out.add(v.id)
    return frozenset(out)


def _covered(day: DayInput, seqs: list[Sequence], lone: set[str]) -> int:
    seen = {i for s in seqs for i in s.items} - lone
    return sum(1 for v in day.visits if v.id in seen)


def day_origin(visits: tuple[Visit, ...], starts: list[datetime]) -> datetime:
    """Second 0 of a day's clock: an hour before anything happens, on the whole minute."""
    first = min([v.window_start for v in visits] + starts)
    return (first - timedelta(hours=1)).replace(second=0, microsecond=0)
