"""The baseline a solver must beat: visits in time order, each to the nearest carer free to take it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
from numpy.typing import NDArray

from rostering.dayinput import eligible
from rostering.figures import figures
from rostering.model import (
    Assignment,
    Carer,
    GeoPoint,
    Plan,
    Problem,
    Round,
    Shift,
    Stop,
    StopKind,
    TravelMode,
    Uncovered,
    Visit,
)
from rostering.travel import TravelMatrix


@dataclass(slots=True)
class _State:
    carer: Carer
    shift: Shift
    loc: int
    free: datetime
    depart: datetime | None = None
    stops: list[Stop] = field(default_factory=list)
    travel_s: int = 0
    rested: bool = False


@dataclass(slots=True, frozen=True)
class _Offer:
    state: _State
    travel_s: int
    arrive: datetime


def _offer(
    state: _State, visit: Visit, loc: int, home: int, m: NDArray[np.int64], problem: Problem
) -> _Offer | None:
    if not eligible(visit, state.carer):
        return None
    w = problem.weights
    free = state.free
    long_shift = (state.shift.end - state.shift.start).total_seconds() > w.break_after_s
    if long_shift and not state.rested and free >= state.shift.start + timedelta(hours=3):
        free += timedelta(seconds=w.break_s)
    travel = int(m[state.loc, loc])
    arrive = free + timedelta(seconds=travel)
    start = max(arrive, visit.window_start)
    end = start + timedelta(seconds=visit.duration_s + int(m[loc, home]))
    if start > visit.window_end or end > state.shift.end:
        return None
    began = state.depart or (start - timedelta(seconds=travel))
    if (end - began).total_seconds() > state.carer.max_week_s - state.carer.week_worked_s:
        return None
    return _Offer(state, travel, arrive)


def _take(state: _State, visit: Visit, loc: int, offer: _Offer, start: datetime, problem: Problem) -> None:
    w = problem.weights
    long_shift = (state.shift.end - state.shift.start).total_seconds() > w.break_after_s
    if long_shift and not state.rested and state.free >= state.shift.start + timedelta(hours=3):
        rest_end = state.free + timedelta(seconds=w.break_s)
        state.stops.append(Stop(StopKind.BREAK, None, state.free, state.free, rest_end, 0))
        state.rested = True
    if state.depart is None:
        state.depart = start - timedelta(seconds=offer.travel_s)
    end = start + timedelta(seconds=visit.duration_s)
    state.stops.append(Stop(StopKind.VISIT, visit.id, offer.arrive, start, end, offer.travel_s))
    state.travel_s += offer.travel_s
    state.loc, state.free = loc, end


def _too_late(
    offer: _Offer,
    visit: Visit,
    start: datetime,
    mats: dict[TravelMode, NDArray[np.int64]],
    homes: dict[str, int],
) -> bool:
    st = offer.state
    home_s = int(mats[st.carer.travel_mode][st.loc, homes[st.carer.id]])
    return start + timedelta(seconds=visit.duration_s + home_s) > st.shift.end


def greedy(
    problem: Problem, travel: TravelMatrix, *, prefer: Mapping[str, Sequence[str]] | None = None
) -> Plan:
    """Nearest available carer in time order; double-ups to the two nearest who can meet in the window.
    With prefer (client -> carers), those carers come first in that order, as a provider's own rota does."""
    prefer = prefer or {}
    points: list[GeoPoint] = [c.home for c in problem.carers] + [v.location for v in problem.visits]
    homes = {c.id: i for i, c in enumerate(problem.carers)}
    mats = {mode: travel.durations(points, mode) for mode in {c.travel_mode for c in problem.carers}}
    states = [_State(c, s, homes[c.id], s.start) for c in problem.carers for s in c.shifts]
    made: list[Assignment] = []
    uncovered: list[Uncovered] = []
    order = sorted(enumerate(problem.visits), key=lambda iv: iv[1].planned_start)
    for i, visit in order:
        loc = len(problem.carers) + i
        offers = []
        for st in states:
            if st.shift.start.date() != visit.planned_start.date():
                continue
            m = mats[st.carer.travel_mode]
            offer = _offer(st, visit, loc, homes[st.carer.id], m, problem)
            if offer is not None:
                offers.append(offer)
        usual = list(prefer.get(visit.client_id, ()))

        def rank(o: _Offer, usual: list[str] = usual) -> tuple[int, int, datetime]:
            cid = o.state.carer.id
            return (usual.index(cid) if cid in usual else len(usual), o.travel_s, o.arrive)

        offers.sort(key=rank)
        need = max(1, visit.carers_needed)
        chosen = offers[:need]
        if len(chosen) < need:
            uncovered.append(Uncovered(visit.id, "no carer free to reach it in its window"))
            continue
        start = max([o.arrive for o in chosen] + [visit.window_start])
        if start > visit.window_end or any(_too_late(o, visit, start, mats, homes) for o in chosen):
            uncovered.append(Uncovered(visit.id, "the two nearest carers cannot meet in the window"))
            continue
        for o in chosen:
            _take(o.state, visit, loc, o, start, problem)
        late = max(0, int((start - visit.planned_start).total_seconds()))
        made.append(
            Assignment(visit.id, tuple(o.state.carer.id for o in chosen), start, late, ("nearest free",))
        )
    rounds = []
    for st in states:
        if st.depart is None:
            continue
        home_s = int(mats[st.carer.travel_mode][st.loc, homes[st.carer.id]])
        rounds.append(
            Round(
                st.carer.id,
                st.shift.start.date().isoformat(),
                st.depart,
                st.free + timedelta(seconds=home_s),
                tuple(st.stops),
                st.travel_s + home_s,
            )
        )
    stats = figures(problem.visits, rounds, made, problem.history, problem.weights)
    return Plan(tuple(rounds), tuple(made), tuple(uncovered), stats, solver="greedy")
