"""The fair share of the day's work is split in proportion to each shift's length, not one flat share per
shift: a carer on a split shift is two vehicles, and a flat share priced a long morning's work as overtime."""

from __future__ import annotations

from rostering.build import build, fair_share
from rostering.dayinput import DayInput, Vehicle
from rostering.model import Weights
from rostering.travel import GreatCircleTravel
from tests.rostering.cases import at, carer, visit


def _day() -> DayInput:
    morning, evening = carer("ann", start=7, end=14), carer("bob", start=16, end=20)
    visits = tuple(visit(f"v{n}", planned=at(8 + n), minutes=60) for n in range(7))
    vehicles = tuple(
        Vehicle(c, c.shifts[0], c.home, c.shifts[0].start, 40 * 3600) for c in (morning, evening)
    )
    return DayInput(at(6), visits, vehicles, Weights())


def test_the_share_is_the_work_over_the_shifts_hours() -> None:
    # Seven hours of care (and a quarter on top for travel) over eleven hours of shifts.
    assert abs(fair_share(_day()) - 1.25 * 7 / 11) < 1e-9


def test_each_shift_is_priced_past_its_own_part_of_the_work() -> None:
    day = _day()
    types = build(day, GreatCircleTravel()).data.vehicle_types()
    share = 1.25 * 7 / 11
    assert types[0].shift_duration == round(share * 7 * 3600)
    assert types[1].shift_duration == round(share * 4 * 3600)
    # The seven-hour shift keeps its break's half hour back from the search; the four-hour one owes none.
    assert types[0].max_overtime == 7 * 3600 - 30 * 60 - types[0].shift_duration
