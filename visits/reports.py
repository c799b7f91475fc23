"""Visit reports per organisation, home and carer over a date range: planned, delivered, late, short,
missed; punctuality; minutes delivered against planned; continuity; logging compliance; and the share
of visits the home's sensors verified. Pure functions over visit rows; SQL lives in report_queries.py.

Definitions (the ones commissioners use, stated so a reader can check them):
- planned: visits in the range not cancelled; each is delivered (checked in), missed (its window ended
  with nobody checked in) or pending (not yet due).
- late: delivered and checked in more than `late_after_min` after the planned start; punctuality is the
  share of delivered visits that were not late.
- short: checked out after less than `short_below` of the planned minutes.
- minutes delivered: check-in to check-out (a visit without a check-out counts nothing delivered).
- continuity: the distinct carers who delivered visits to a client (for an organisation: the mean
  over its clients and the most any client saw; for a carer: the distinct clients they visited).
- logging compliance: the share of delivered visits both checked in and out at the home (the tag
  reader, or a phone inside the geofence; a manual entry or a fix away from the home is not).
- verified by the sensors: the share of delivered visits whose verdict is verified or verified with
  exceptions and whose home's sensors could check it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timedelta
from statistics import fmean
from typing import Literal
from uuid import UUID

GroupBy = Literal["organisation", "home", "carer"]
_AT_HOME = frozenset({"tag", "phone"})
_AWAY_FLAGS = frozenset({"outside_geofence", "manual", "not_assigned", "wrong_home"})


@dataclass(slots=True, frozen=True)
class ReportVisit:
    """One visit as a report needs it."""

    visit_id: UUID
    organisation_id: UUID
    home_id: UUID
    home_name: str
    carers: tuple[tuple[UUID, str], ...]  # who delivered it (who checked in), else who was assigned
    planned_start: datetime
    planned_minutes: float
    check_in_at: datetime | None = None
    check_out_at: datetime | None = None
    check_in_method: str | None = None
    check_out_method: str | None = None
    flags: tuple[str, ...] = ()  # of its check-in and check-out
    verdict: str | None = None
    corroborated: bool = False


@dataclass(slots=True, frozen=True)
class Thresholds:
    """What counts as late and short."""

    late_after_min: float = 15.0
    short_below: float = 0.75


@dataclass(slots=True, frozen=True)
class ReportLine:
    """The figures of one organisation, home or carer."""

    group: str
    id: str
    name: str
    planned: int
    delivered: int
    missed: int
    pending: int
    late: int
    short: int
    punctuality: float | None
    minutes_planned: float
    minutes_delivered: float
    minutes_share: float | None
    continuity: float | None
    continuity_max: int | None
    logging_compliance: float | None
    verified_by_sensors: float | None


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _minutes(v: ReportVisit) -> float:
    if v.check_in_at is None or v.check_out_at is None:
        return 0.0
    return max(0.0, (v.check_out_at - v.check_in_at).total_seconds() / 60)


def is_late(v: ReportVisit, th: Thresholds) -> bool:
    """Checked in more than the threshold after the planned start."""
    return v.check_in_at is not None and v.check_in_at - v.planned_start > timedelta(
        minutes=th.late_after_min
    )


def is_short(v: ReportVisit, th: Thresholds) -> bool:
    """Checked out after less than the threshold share of the planned length."""
    return v.check_out_at is not None and _minutes(v) < v.planned_minutes * th.short_below


def logged_at_home(v: ReportVisit) -> bool:
    """Checked in and out at the home: by the tag or a phone inside the geofence, not by hand."""
    return (
        v.check_in_method in _AT_HOME and v.check_out_method in _AT_HOME and not (_AWAY_FLAGS & set(v.flags))
    )


def line(
    group: GroupBy, key: str, name: str, visits: Sequence[ReportVisit], now: datetime, th: Thresholds
) -> ReportLine:
    """The figures of one group of visits, judged at `now` (a visit not yet over is pending)."""
    delivered = [v for v in visits if v.check_in_at is not None]
    missed = [
        v
        for v in visits
        if v.check_in_at is None and v.planned_start + timedelta(minutes=v.planned_minutes) <= now
    ]
    late = sum(is_late(v, th) for v in delivered)
    planned_min = sum(v.planned_minutes for v in visits)
    delivered_min = sum(_minutes(v) for v in delivered)
    continuity, most = _continuity(group, delivered)
    verified = sum(
        v.corroborated and v.verdict in ("verified", "verified_with_exceptions") for v in delivered
    )
    return ReportLine(
        group=group,
        id=key,
        name=name,
        planned=len(visits),
        delivered=len(delivered),
        missed=len(missed),
        pending=len(visits) - len(delivered) - len(missed),
        late=late,
        short=sum(is_short(v, th) for v in delivered),
        punctuality=_share(len(delivered) - late, len(delivered)),
        minutes_planned=round(planned_min, 1),
        minutes_delivered=round(delivered_min, 1),
        minutes_share=round(delivered_min / planned_min, 4) if planned_min else None,
        continuity=continuity,
        continuity_max=most,
        logging_compliance=_share(sum(logged_at_home(v) for v in delivered), len(delivered)),
        verified_by_sensors=_share(verified, len(delivered)),
    )


def _continuity(group: GroupBy, delivered: Sequence[ReportVisit]) -> tuple[float | None, int | None]:
    """Distinct carers per client (mean and most); for a carer, the distinct clients they visited."""
    if not delivered:
        return None, None
    if group == "carer":
        count = len({v.home_id for v in delivered})
        return float(count), count
    per_client: dict[UUID, set[UUID]] = {}
    for v in delivered:
        per_client.setdefault(v.home_id, set()).update(c for c, _ in v.carers)
    counts = [len(s) for s in per_client.values()]
    return round(fmean(counts), 2), max(counts)


def report(
    visits: Iterable[ReportVisit], group: GroupBy, now: datetime, th: Thresholds | None = None
) -> list[ReportLine]:
    """One line per organisation, home or carer (a double-up visit counts for each of its carers)."""
    th = th or Thresholds()
    buckets: dict[str, tuple[str, list[ReportVisit]]] = {}
    for v in visits:
        for key, name in _keys(group)(v):
            buckets.setdefault(key, (name, []))[1].append(v)
    return [
        line(group, key, name, items, now, th)
        for key, (name, items) in sorted(buckets.items(), key=lambda kv: kv[1][0])
    ]


def _keys(group: GroupBy) -> Callable[[ReportVisit], list[tuple[str, str]]]:
    if group == "organisation":
        return lambda v: [(str(v.organisation_id), "")]
    if group == "home":
        return lambda v: [(str(v.home_id), v.home_name)]
    return lambda v: [(str(c), name) for c, name in v.carers]


CSV_COLUMNS = tuple(f.name for f in fields(ReportLine))


def to_csv(lines: Iterable[ReportLine]) -> str:
    """The report as CSV with a header row (empty cells where a share has no denominator)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for item in lines:
        writer.writerow({k: ("" if v is None else v) for k, v in asdict(item).items()})
    return out.getvalue()
