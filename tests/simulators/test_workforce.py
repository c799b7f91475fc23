"""The simulated provider staffs its clients' peaks: a morning, an evening and a split shift, in a mix that
follows the day's demand rather than a fixed share of each."""

from __future__ import annotations

from collections import Counter
from datetime import date

from simulators.workforce import (
    BUSY_SHARE,
    PEAK_HOURS,
    carers_for,
    make_workforce,
    peak_need_h,
    staffing,
)

DAY = date(2026, 12, 3)


def test_both_peaks_needing_most_carers_are_staffed_with_split_shifts() -> None:
    # 30 carers wanted in the morning and 20 in the evening out of 40: 10 work both (split).
    need = {"am": 30 * PEAK_HOURS["am"] * BUSY_SHARE, "pm": 20 * PEAK_HOURS["pm"] * BUSY_SHARE}
    assert staffing(40, need) == {"split": 10, "early": 20, "late": 10}


def test_spare_carers_go_to_the_busier_peak_and_none_split_without_need() -> None:
    need = {"am": 10 * PEAK_HOURS["am"] * BUSY_SHARE, "pm": 5 * PEAK_HOURS["pm"] * BUSY_SHARE}
    assert staffing(20, need) == {"split": 0, "early": 15, "late": 5}


def test_a_morning_beyond_the_workforce_has_every_carer_on_it() -> None:
    need = {"am": 60 * PEAK_HOURS["am"], "pm": 10 * PEAK_HOURS["pm"] * BUSY_SHARE}
    mix = staffing(40, need)
    assert mix["split"] + mix["early"] == 40 and mix["split"] == 10 and sum(mix.values()) == 40


def test_the_benchmark_day_is_staffed_to_its_demand_in_each_peak() -> None:
    workforce = make_workforce(carers=40, visits_per_day=400)
    need = peak_need_h(workforce.clients)
    paid = {"am": 0.0, "pm": 0.0}
    for carer in carers_for(workforce, [DAY], rest_days=False):
        for shift in carer.shifts:
            paid["am" if shift.start.hour < 12 else "pm"] += (shift.end - shift.start).total_seconds() / 3600
    # Every carer works the morning (it needs more than 40 carers' 85 %), and the evening has its need
    # over the planned busy share.
    assert Counter(c.pattern for c in workforce.carers)["late"] <= 1
    assert paid["am"] >= 40 * PEAK_HOURS["am"]
    assert paid["pm"] >= need["pm"] / BUSY_SHARE


def test_a_split_shift_is_two_stretches_the_same_day() -> None:
    workforce = make_workforce(carers=6, visits_per_day=60, seed=3)
    carers = carers_for(workforce, [DAY], rest_days=False)
    split = [c for c, spec in zip(carers, workforce.carers, strict=True) if spec.pattern == "split"]
    assert split and all(len(c.shifts) == 2 and c.shifts[0].end < c.shifts[1].start for c in split)
