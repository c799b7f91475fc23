"""Recurrence on the home's wall clock: 08:00 stays 08:00 across both of Europe/London's changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from visits.recurrence import Recurrence, local_instant, occurrences

LONDON = ZoneInfo("Europe/London")
DAILY_8 = Recurrence(weekdays=(1, 2, 3, 4, 5, 6, 7), interval_weeks=1, start_time=time(8), planned_minutes=45)


def _starts(rec: Recurrence, first: date, last: date) -> list[datetime]:
    return [o.start for o in occurrences(rec, tz=LONDON, anchor=date(2026, 1, 5), first=first, last=last)]


def test_spring_forward_keeps_the_local_time() -> None:
    # 2026-03-29: clocks go from 01:00 GMT to 02:00 BST.
    starts = _starts(DAILY_8, date(2026, 3, 28), date(2026, 3, 30))
    assert starts == [
        datetime(2026, 3, 28, 8, tzinfo=UTC),
        datetime(2026, 3, 29, 7, tzinfo=UTC),
        datetime(2026, 3, 30, 7, tzinfo=UTC),
    ]
    assert {s.astimezone(LONDON).time() for s in starts} == {time(8)}


def test_autumn_back_keeps_the_local_time() -> None:
    # 2026-10-25: clocks go from 02:00 BST back to 01:00 GMT.
    starts = _starts(DAILY_8, date(2026, 10, 24), date(2026, 10, 26))
    assert starts == [
        datetime(2026, 10, 24, 7, tzinfo=UTC),
        datetime(2026, 10, 25, 8, tzinfo=UTC),
        datetime(2026, 10, 26, 8, tzinfo=UTC),
    ]


def test_a_visit_across_the_change_lasts_its_planned_minutes() -> None:
    night = Recurrence((7,), 1, time(0, 30), 120)
    [spring] = occurrences(
        night, tz=LONDON, anchor=date(2026, 1, 4), first=date(2026, 3, 29), last=date(2026, 3, 29)
    )
    [autumn] = occurrences(
        night, tz=LONDON, anchor=date(2026, 1, 4), first=date(2026, 10, 25), last=date(2026, 10, 25)
    )
    assert spring.end - spring.start == timedelta(minutes=120)
    assert autumn.end - autumn.start == timedelta(minutes=120)
    assert spring.start == datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    assert autumn.start == datetime(2026, 10, 24, 23, 30, tzinfo=UTC)


def test_skipped_and_repeated_wall_clock_times() -> None:
    # 01:30 does not exist on the spring Sunday: it falls an hour later (02:30 BST, 01:30 UTC).
    assert local_instant(date(2026, 3, 29), time(1, 30), LONDON) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    # 01:30 happens twice on the autumn Sunday: the first (BST, 00:30 UTC).
    assert local_instant(date(2026, 10, 25), time(1, 30), LONDON) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


def test_weekdays_and_fortnightly() -> None:
    rec = Recurrence((1, 4), 2, time(14), 30)  # Mondays and Thursdays, every other week
    got = [
        o.occurrence_date
        for o in occurrences(
            rec, tz=LONDON, anchor=date(2026, 11, 30), first=date(2026, 11, 30), last=date(2026, 12, 27)
        )
    ]
    assert got == [date(2026, 11, 30), date(2026, 12, 3), date(2026, 12, 14), date(2026, 12, 17)]
