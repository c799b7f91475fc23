"""The last 28 days of a home as an hour-by-day heatmap of activity, with the home's normal range marked.

Rows are the home's days (04:00 to 04:00), columns its local hours from 04:00. A cell's shade is the
activity readings in that hour; an hour's normal range is the 10th to 90th percentile of that hour over
the days before today, and a cell outside it is marked quieter or busier than usual. Pure: hourly
buckets (UTC, from `readings_hourly`) in, cells out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape

from console.timeline import DAY_START

DAYS = 28
LEVELS = 5
_LOW_Q, _HIGH_Q = 0.10, 0.90
_MIN_DAYS = 7  # fewer days than this give no normal range worth drawing


@dataclass(frozen=True, slots=True)
class Cell:
    """One hour of one day."""

    count: int
    level: int
    flag: str  # '', 'low' (quieter than usual) or 'high' (busier)
    label: str


@dataclass(frozen=True, slots=True)
class Row:
    """One day."""

    day: date
    label: str
    cells: list[Cell]
    html: Markup  # the cells as the table's <td>s


@dataclass(frozen=True, slots=True)
class Normal:
    """An hour's normal range."""

    hour: str
    low: int
    high: int


@dataclass(frozen=True, slots=True)
class Heatmap:
    """The grid, the hours' labels and their normal ranges (empty while too little history exists)."""

    rows: list[Row]
    hours: list[str]
    normal: list[Normal]
    peak: int


def hour_labels() -> list[str]:
    """The columns' local hours, from the day's start."""
    return [f"{(DAY_START.hour + i) % 24:02d}" for i in range(24)]


def build(buckets: Iterable[Any], tz: str, today: date, *, now: datetime) -> Heatmap:
    """The heatmap of the DAYS home days up to `today` from hourly buckets (bucket in UTC, active)."""
    zone = ZoneInfo(tz)
    shift = timedelta(hours=DAY_START.hour, minutes=DAY_START.minute)
    hourly: dict[datetime, int] = {}
    for b in buckets:  # one row per room and hour: summed first, so each hour is converted once
        hourly[b["bucket"]] = hourly.get(b["bucket"], 0) + int(b["active"] or 0)
    local = ((at.astimezone(zone) - shift, count) for at, count in hourly.items())
    return from_hours(((at.date(), at.hour, count) for at, count in local), tz, today, now=now)


def from_hours(hours: Iterable[tuple[date, int, int]], tz: str, today: date, *, now: datetime) -> Heatmap:
    """The heatmap from (home day, hour of that day from its start, activity) triples, as the console's
    query sums them; hours after `now` are not judged against the normal range."""
    first = today - timedelta(days=DAYS - 1)
    grid = [[0] * 24 for _ in range(DAYS)]
    for day, hour, count in hours:
        row = (day - first).days
        if 0 <= row < DAYS and 0 <= hour < 24:
            grid[row][hour] += int(count or 0)
    ranges = _normal(grid[:-1])
    peak = max((max(r) for r in grid), default=0)
    hours_shown = hour_labels()
    rows = []
    shift = timedelta(hours=DAY_START.hour, minutes=DAY_START.minute)
    local_now = now.astimezone(ZoneInfo(tz)) - shift
    for i, counts in enumerate(grid):
        day = first + timedelta(days=i)
        label = day.strftime("%a %d %b")
        cells = []
        for h, count in enumerate(counts):
            judged = ranges and (day < local_now.date() or h < local_now.hour)
            cells.append(_cell(label, hours_shown[h], count, peak, ranges[h] if judged else None))
        rows.append(Row(day, label, cells, _cells_html(cells)))
    normal = [Normal(hours_shown[h], lo, hi) for h, (lo, hi) in enumerate(ranges)] if ranges else []
    return Heatmap(rows, hours_shown, normal, peak)


def _cells_html(cells: list[Cell]) -> Markup:
    """A row's cells as HTML, built once here: 672 cells through the template were most of the page's
    rendering time. Every piece is a number or a label made above from dates (nothing a person typed)."""
    parts = []
    for c in cells:
        flag = f" {c.flag}" if c.flag else ""
        words = f" ({c.flag})" if c.flag else ""
        parts.append(
            f'<td class="l{c.level}{flag}" title="{escape(c.label)}"><span class="sr-only">{c.count}{words}'
            "</span></td>"
        )
    return Markup("".join(parts))


def _normal(history: list[list[int]]) -> list[tuple[int, int]]:
    days = [d for d in history if any(d)]
    if len(days) < _MIN_DAYS:
        return []
    return [
        (_quantile([d[h] for d in days], _LOW_Q), _quantile([d[h] for d in days], _HIGH_Q)) for h in range(24)
    ]


def _quantile(values: list[int], q: float) -> int:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * (len(ordered) - 1) + 0.5))]


def _cell(day: str, hour: str, count: int, peak: int, normal: tuple[int, int] | None) -> Cell:
    level = 0 if count == 0 or peak == 0 else min(LEVELS - 1, 1 + (count * (LEVELS - 1) - 1) // peak)
    flag = ""
    if normal is not None:
        if count < normal[0]:
            flag = "low"
        elif count > normal[1]:
            flag = "high"
    words = {"low": ", quieter than usual", "high": ", busier than usual", "": ""}[flag]
    label = f"{day} {hour}:00: {count} activity readings{words}"
    return Cell(count, level, flag, label)
