"""The day's timeline and the 28-day heatmap, as pure functions of readings."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from console import heatmap, timeline

TZ = "Europe/London"
BED, DOOR, KITCHEN = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
_KIT = {
    BED: ("bed_sensor", "bedroom"),
    DOOR: ("door_contact", "hallway"),
    KITCHEN: ("motion_sensor", "kitchen"),
}


def _r(at: datetime, device: uuid.UUID, kind: str, value: float) -> dict[str, Any]:
    kit, room = _KIT[device]
    return {
        "time": at,
        "kind": kind,
        "value": value,
        "device_id": device,
        "room": room,
        "type": kit,
        "role": "",
    }


def test_a_day_runs_from_four_to_four_on_the_homes_clock_across_daylight_saving() -> None:
    # Clocks go back in the night of 24 to 25 October 2026: that day starts at 04:00 BST, ends at 04:00 GMT.
    start, end = timeline.day_bounds(date(2026, 10, 24), TZ)
    assert start == datetime(2026, 10, 24, 3, 0, tzinfo=UTC)
    assert end - start == timedelta(hours=25)
    spring = timeline.day_bounds(date(2026, 3, 28), TZ)
    assert spring[1] - spring[0] == timedelta(hours=23)
    assert timeline.home_day(datetime(2026, 11, 3, 3, 59, tzinfo=UTC), TZ) == date(2026, 11, 2)
    assert timeline.home_day(datetime(2026, 11, 3, 4, 0, tzinfo=UTC), TZ) == date(2026, 11, 3)


def test_bed_out_activity_and_alerts_are_placed_on_the_day() -> None:
    day = date(2026, 11, 2)  # GMT: the day is 04:00Z to 04:00Z
    t = datetime(2026, 11, 2, tzinfo=UTC)
    readings = [
        _r(t - timedelta(hours=1), BED, "occupancy", 1.0),  # in bed since 23:00 the evening before
        _r(t + timedelta(hours=7), BED, "occupancy", 0.0),
        _r(t + timedelta(hours=7, minutes=5), KITCHEN, "motion", 1.0),
        _r(t + timedelta(hours=7, minutes=6), KITCHEN, "motion", 0.0),
        _r(t + timedelta(hours=10), DOOR, "contact", 1.0),
        _r(t + timedelta(hours=10, seconds=5), DOOR, "contact", 0.0),
        _r(t + timedelta(hours=12), DOOR, "contact", 1.0),  # back two hours later
        _r(t + timedelta(hours=12, minutes=2), KITCHEN, "motion", 1.0),
    ]
    alert = {
        "id": uuid.uuid4(),
        "triggered_at": t + timedelta(hours=16),
        "title": "No movement",
        "explanation": "quiet since 12:02",
        "severity": "high",
        "status": "open",
    }
    line = timeline.build(day, TZ, readings, [alert], now=t + timedelta(hours=20))
    (bed,) = line.in_bed
    assert bed.left == 0 and bed.end == t + timedelta(hours=7)  # drawn from 04:00, not from 23:00
    (out,) = line.out
    assert out.start == t + timedelta(hours=10, seconds=5) and out.end == t + timedelta(hours=12)
    kitchen = next(b for b in line.bands if b.room == "kitchen")
    assert [s.start.hour for s in kitchen.spans] == [7, 12]
    (marker,) = line.markers
    assert marker.left == 50.0 and marker.title == "No movement"
    assert [tick.label for tick in line.ticks] == ["04", "08", "12", "16", "20", "00", "04"]
    assert line.readings == 7


def test_a_night_still_going_ends_now() -> None:
    t = datetime(2026, 11, 2, 22, tzinfo=UTC)
    line = timeline.build(
        date(2026, 11, 2), TZ, [_r(t, BED, "occupancy", 1.0)], [], now=t + timedelta(hours=1)
    )
    assert line.in_bed[0].end == t + timedelta(hours=1)


def test_the_heatmap_marks_hours_outside_the_homes_normal_range() -> None:
    today = date(2026, 11, 28)
    first = today - timedelta(days=heatmap.DAYS - 1)
    buckets = []
    for d in range(heatmap.DAYS):
        # Every day busy at 08:00 (10 readings); today only 1.
        at = datetime(first.year, first.month, first.day, 8, tzinfo=UTC) + timedelta(days=d)
        buckets.append({"bucket": at, "active": 1 if d == heatmap.DAYS - 1 else 10})
    now = datetime(2026, 11, 28, 12, tzinfo=UTC)
    grid = heatmap.build(buckets, TZ, today, now=now)
    eight = grid.hours.index("08")
    assert grid.rows[0].cells[eight].count == 10 and grid.rows[0].cells[eight].level == heatmap.LEVELS - 1
    assert (
        grid.rows[-1].cells[eight].flag == "low" and "quieter than usual" in grid.rows[-1].cells[eight].label
    )
    assert grid.normal[eight].low == grid.normal[eight].high == 10
    # Hours still to come today are not judged.
    assert grid.rows[-1].cells[grid.hours.index("20")].flag == ""


def test_too_little_history_draws_no_normal_range() -> None:
    now = datetime(2026, 11, 28, 12, tzinfo=UTC)
    grid = heatmap.build([{"bucket": now, "active": 3}], TZ, date(2026, 11, 28), now=now)
    assert grid.normal == [] and all(c.flag == "" for row in grid.rows for c in row.cells)
