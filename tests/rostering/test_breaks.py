"""Breaks: every round owed one gets it, even when that costs visits; a round not owed one is given none."""

from __future__ import annotations

from datetime import timedelta

from rostering.breaks import rested
from rostering.build import build
from rostering.dayinput import DayInput, Vehicle
from rostering.decode import BREAK, Sequence
from rostering.greedy import greedy
from rostering.model import Carer, Problem, StopKind, Visit, Weights
from rostering.planner import plan
from rostering.refill import refilled
from rostering.solve import day_origin
from rostering.travel import GreatCircleTravel
from tests.rostering.cases import at, carer, check, point, visit

TRAVEL = GreatCircleTravel()


def _packed(n: int = 45) -> tuple[Visit, ...]:
    # A visit every 10 minutes from 07:10, 7 minutes each, to the minute (no slack), 100 m apart along a
    # street: a 30-minute break fits only where four visits in a row are given up, which is worth more to
    # the search than the break (four prizes against one).
    return tuple(
        visit(
            f"v{n:02d}",
            where=point(0.1 * n, 0),
            planned=at(7, 10) + timedelta(minutes=10 * n),
            slack_min=0,
            minutes=7,
        )
        for n in range(n)
    )


def test_a_packed_long_round_keeps_its_break_and_gives_up_the_fewest_visits() -> None:
    problem = Problem(_packed(), (carer("ann", start=7, end=15),))
    result = plan(problem, TRAVEL, time_limit_s=2.0)
    check(problem, result)
    (rnd,) = result.rounds
    assert rnd.worked_s > 6.5 * 3600
    assert [s.kind for s in rnd.stops].count(StopKind.BREAK) == 1
    assert len(result.assignments) >= greedy(problem, TRAVEL).figures.covered
    assert len(result.uncovered) == 4


def test_a_round_not_owed_a_break_is_given_none() -> None:
    # A long shift, but the work ends by 12:00: a five-hour round owes no break.
    visits = tuple(v for v in _packed() if v.planned_start < at(12))
    problem = Problem(visits, (carer("ann", start=7, end=15),))
    result = plan(problem, TRAVEL, time_limit_s=1.0)
    check(problem, result)
    assert not result.uncovered
    assert all(s.kind is StopKind.VISIT for r in result.rounds for s in r.stops)


def _day(visits: tuple[Visit, ...], carers: tuple[Carer, ...]) -> DayInput:
    vehicles = tuple(Vehicle(c, c.shifts[0], c.home, c.shifts[0].start, c.max_week_s) for c in carers)
    return DayInput(day_origin(visits, [v.shift.start for v in vehicles]), visits, vehicles, Weights())


def test_visits_taken_out_for_a_break_are_offered_to_another_round() -> None:
    visits = _packed()
    day = _day(visits, (carer("ann", start=7, end=15), carer("bob", start=7, end=15, home=point(1, 0))))
    built = build(day, TRAVEL)
    everything = Sequence(0, tuple(v.id for v in visits), day.seconds(at(7)))
    placed, taken = rested(day, built, [everything])
    assert len(taken) == 4 and BREAK in placed[0].seq.items
    again = refilled(day, built, placed, taken)
    assert sorted(i for p in again for i in p.seq.items if i != BREAK) == sorted(v.id for v in visits)
    assert [p.seq.vehicle for p in again] == [0, 1]
