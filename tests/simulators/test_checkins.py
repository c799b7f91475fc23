"""Simulated carers' check-ins: tag or phone with a fix and its error, and each labelled slip."""

from __future__ import annotations

import math
from collections import Counter
from datetime import date

from simulators.checkins import Habits, home_location, offset
from simulators.home import simulate_home

SLIPS = Habits(phone_p=0.5, no_checkout_p=0.1, phone_outside_p=0.1, wrong_home_p=0.1, offline_p=0.2)


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    north = math.radians(b[0] - a[0]) * 6_371_000
    east = math.radians(b[1] - a[1]) * 6_371_000 * math.cos(math.radians(a[0]))
    return math.hypot(north, east)


def test_offset_moves_by_the_metres_asked() -> None:
    origin = home_location(7)
    assert abs(_metres(origin, offset(origin, 300.0, -400.0)) - 500.0) < 1.0


def test_without_habits_the_stream_is_unchanged() -> None:
    args = {"seed": 3, "profile": "frail", "layout": "bungalow", "start": date(2026, 3, 2), "days": 3}
    plain, same = simulate_home(**args), simulate_home(**args, habits=Habits())  # type: ignore[arg-type]
    assert [(e.at, e.device_key, e.fields) for e in plain.events] == [
        (e.at, e.device_key, e.fields) for e in same.events
    ]
    assert all(v.tapped(0) and v.tapped(1) for v in plain.visits)


def test_slips_are_labelled_and_leave_their_traces() -> None:
    stream = simulate_home(
        seed=5, profile="frail", layout="bungalow", start=date(2026, 3, 2), days=28, habits=SLIPS
    )
    outcomes = Counter(v.outcome for v in stream.visits)
    assert outcomes["unverified"] > 0 and outcomes["no_checkout"] > 0 and stream.strays
    assert stream.location is not None
    taps = [e for e in stream.events if e.kind == "tag"]
    for visit in stream.visits:
        check_in, check_out = visit.checks
        if visit.outcome == "unverified":
            assert visit.actual_start is None and check_in is not None and check_in.method == "phone"
            assert (
                check_in.fix is not None
                and _metres(stream.location, (check_in.fix.latitude, check_in.fix.longitude)) > 5
            )
        if visit.outcome == "no_checkout":
            assert check_in is not None and check_out is None
    phones = [c for v in stream.visits for c in v.checks if c is not None and c.method == "phone"]
    assert phones and any(c.delay_s > 300 for c in phones)  # some phones were offline and sent late
    foreign = {t.tag_id for t in stream.strays}
    assert foreign <= {e.fields["tag_id"] for e in taps}
    tagged_in = sum(
        1 for v in stream.visits if v.actual_start is not None and v.checks[0] and v.checks[0].method == "tag"
    )
    assert len(taps) >= tagged_in
