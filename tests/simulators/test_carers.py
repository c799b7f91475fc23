"""Carer visits: the schedule, what happened, and how the home's devices show each visit."""

from __future__ import annotations

import bisect
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from devices.contract import MessageKind
from simulators.carers import LATE_AFTER_MIN, SHORT_BELOW, plan_visits
from simulators.home import simulate_home
from simulators.model import HomeStream, ScenarioItem, SimEvent, VisitRecord
from simulators.profiles import get_profile
from simulators.summary import daily_summary
from simulators.timeline import LocalClock

LONDON = ZoneInfo("Europe/London")
START = date(2025, 11, 3)  # a Monday
DAYS = 14
TAP = timedelta(seconds=30)


@pytest.fixture(scope="module")
def stream() -> HomeStream:
    scenario = [ScenarioItem("missed_visit", 2), ScenarioItem("missed_visit", 9)]
    return simulate_home(
        seed=21, profile="frail", layout="bungalow", start=START, days=DAYS, scenario=scenario
    )


def _tags(stream: HomeStream, start: datetime, end: datetime) -> list[SimEvent]:
    return [
        e
        for e in stream.events
        if e.kind is MessageKind.TAG and start <= e.true_at <= end and not e.duplicate
    ]


def test_the_schedule_follows_the_care_plan(stream: HomeStream) -> None:
    slots = get_profile("frail").carers
    assert len(stream.visits) == DAYS * len(slots)
    for visit in stream.visits:
        slot = next(s for s in slots if s.name == visit.slot)
        local = visit.planned_start.astimezone(LONDON)
        assert local.hour * 60 + local.minute == slot.start
        assert visit.planned_end - visit.planned_start == timedelta(minutes=slot.minutes)


def test_each_visit_that_happened_is_tapped_in_and_out(stream: HomeStream) -> None:
    done = [v for v in stream.visits if not v.missed]
    assert done
    for visit in done:
        assert visit.actual_start is not None and visit.actual_end is not None
        taps = _tags(stream, visit.actual_start, visit.actual_end)
        assert [e.fields["tag_id"] for e in taps] == [visit.tag_id, visit.tag_id], visit
        assert taps[0].true_at - visit.actual_start < TAP
        doors = [
            e
            for e in stream.events
            if e.device_key == "door-front"
            and visit.actual_start <= e.true_at <= visit.actual_start + timedelta(minutes=2)
        ]
        assert any(e.fields["open"] for e in doors)


def test_missed_visits_leave_no_trace_and_are_labelled(stream: HomeStream) -> None:
    missed = [v for v in stream.visits if v.missed]
    assert len(missed) >= 2  # the two in the scenario, perhaps more by chance
    labels = {(i.start, i.end) for i in stream.incidents if i.kind == "missed_visit"}
    for visit in missed:
        assert (visit.planned_start, visit.planned_end) in labels
        window = _tags(
            stream, visit.planned_start - timedelta(minutes=20), visit.planned_end + timedelta(minutes=20)
        )
        assert not window


def test_outcomes_match_the_times(stream: HomeStream) -> None:
    outcomes = {v.outcome for v in stream.visits}
    assert (
        {"on_time", "missed"} <= outcomes
        and outcomes & {"late", "late_short"}
        and outcomes & {"short", "late_short"}
    )
    for visit in stream.visits:
        if visit.missed:
            continue
        assert visit.actual_start is not None and visit.actual_end is not None
        late = visit.actual_start - visit.planned_start > timedelta(minutes=LATE_AFTER_MIN)
        short = (
            visit.actual_end - visit.actual_start < (visit.planned_end - visit.planned_start) * SHORT_BELOW
        )
        assert ("late" in visit.outcome) == late and ("short" in visit.outcome) == short, visit


def test_the_resident_is_with_the_carer_during_a_visit(stream: HomeStream) -> None:
    events = sorted(stream.events, key=lambda e: e.true_at)
    times = [e.true_at for e in events]
    for visit in (v for v in stream.visits if not v.missed):
        assert visit.actual_start is not None and visit.actual_end is not None
        first = bisect.bisect_left(times, visit.actual_start + TAP)
        inside = events[first : bisect.bisect_right(times, visit.actual_end)]
        # Nobody sits down in the lounge chair or leaves the house while the carer is there.
        assert not [e for e in inside if e.device_key == "chair-lounge" and e.fields.get("occupied")]
        rooms = {e.device_key for e in inside if e.kind is MessageKind.MOTION}
        if visit.slot == "bedtime":
            assert {"motion-bathroom", "motion-bedroom"} <= rooms
        if visit.slot in ("lunch", "tea"):
            assert "motion-kitchen" in rooms


def test_the_summary_counts_visits_from_the_taps(stream: HomeStream) -> None:
    per_day: dict[date, int] = {}
    for visit in stream.visits:
        day = visit.planned_start.astimezone(LONDON).date()
        per_day[day] = per_day.get(day, 0) + (0 if visit.missed else 1)
    assert {s.day: s.carer_visits for s in daily_summary(stream)} == per_day


def _plan(force: frozenset[tuple[int, str]] = frozenset()) -> list[VisitRecord]:
    clock = LocalClock(LONDON)
    profile = get_profile("dementia")
    return plan_visits(
        home="h", profile=profile, clock=clock, start=START, days=7, seed=8, force_missed=force
    )


def test_plans_are_reproducible_and_a_forced_miss_changes_only_that_visit() -> None:
    base = _plan()
    assert base == _plan()
    forced = _plan(frozenset({(3, "lunch")}))
    changed = [(a, b) for a, b in zip(base, forced, strict=True) if a != b]
    assert len(changed) <= 2  # the visit itself, and possibly the one before it no longer cut short
    target = next(b for a, b in changed if b.missed)
    assert target.slot == "lunch" and target.planned_start.astimezone(LONDON).date() == START + timedelta(
        days=3
    )
    assert target.actual_start is None and target.actual_end is None


def test_an_independent_resident_gets_a_weekly_welfare_call() -> None:
    stream = simulate_home(seed=3, profile="active", layout="flat", start=START, days=7)
    days = sorted({v.planned_start.astimezone(LONDON).weekday() for v in stream.visits})
    assert days == [0, 3]  # Monday and Thursday
