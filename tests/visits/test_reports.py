"""Reports on a small hand-made case: two homes, two carers, a week's five visits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

from visits.reports import CSV_COLUMNS, ReportVisit, report, to_csv

ORG, EDITH, ARTHUR = UUID(int=1), UUID(int=10), UUID(int=11)
SAM, JO = (UUID(int=20), "Sam"), (UUID(int=21), "Jo")
NOW = datetime(2026, 11, 10, tzinfo=UTC)


def _visit(
    n: int,
    home: UUID,
    carers: tuple[tuple[UUID, str], ...],
    late_min: float | None,
    length: float | None,
    **kw: object,
) -> ReportVisit:
    start = datetime(2026, 11, 3, 8, tzinfo=UTC) + timedelta(days=n)
    check_in = None if late_min is None else start + timedelta(minutes=late_min)
    check_out = None if check_in is None or length is None else check_in + timedelta(minutes=length)
    values: dict[str, object] = {
        "visit_id": UUID(int=100 + n),
        "organisation_id": ORG,
        "home_id": home,
        "home_name": "Edith" if home == EDITH else "Arthur",
        "carers": carers,
        "planned_start": start,
        "planned_minutes": 30.0,
        "check_in_at": check_in,
        "check_out_at": check_out,
        "check_in_method": None if check_in is None else "tag",
        "check_out_method": None if check_out is None else "tag",
        "verdict": "missed" if check_in is None else "verified",
        "corroborated": check_in is not None,
    }
    values.update(kw)
    return ReportVisit(**values)  # type: ignore[arg-type]


VISITS = [
    _visit(0, EDITH, (SAM,), 2, 30),  # on time, full
    _visit(1, EDITH, (JO,), 25, 30),  # late
    _visit(2, EDITH, (SAM,), 0, 10, verdict="verified_with_exceptions"),  # short
    _visit(3, EDITH, (SAM,), None, None),  # missed
    _visit(
        4, ARTHUR, (SAM, JO), 5, 30, check_in_method="phone", flags=("outside_geofence",), corroborated=False
    ),
    _visit(9, ARTHUR, (JO,), None, None),  # not yet due on NOW: pending
]


def test_per_home() -> None:
    edith, arthur = (next(x for x in report(VISITS, "home", NOW) if x.name == n) for n in ("Edith", "Arthur"))
    assert (edith.planned, edith.delivered, edith.missed, edith.pending) == (4, 3, 1, 0)
    assert (edith.late, edith.short) == (1, 1)
    assert edith.punctuality == round(2 / 3, 4)
    assert (edith.minutes_planned, edith.minutes_delivered) == (120.0, 70.0)
    assert edith.minutes_share == round(70 / 120, 4)
    assert (edith.continuity, edith.continuity_max) == (2.0, 2)
    assert edith.logging_compliance == 1.0
    assert edith.verified_by_sensors == 1.0
    assert (arthur.planned, arthur.delivered, arthur.pending) == (2, 1, 1)
    assert arthur.logging_compliance == 0.0  # checked in by phone away from the home
    assert arthur.verified_by_sensors == 0.0


def test_per_organisation_and_carer() -> None:
    [org] = report(VISITS, "organisation", NOW)
    assert (org.planned, org.delivered, org.missed, org.pending, org.late, org.short) == (6, 4, 1, 1, 1, 1)
    assert org.continuity == 2.0 and org.continuity_max == 2
    assert org.logging_compliance == 0.75 and org.verified_by_sensors == 0.75
    by_name = {x.name: x for x in report(VISITS, "carer", NOW)}
    assert by_name["Sam"].planned == 4 and by_name["Sam"].delivered == 3  # the double-up counts for both
    assert by_name["Jo"].planned == 3 and by_name["Jo"].continuity == 2.0  # clients Jo visited


def test_empty_shares_are_blank_in_csv() -> None:
    text = to_csv(report([VISITS[3]], "home", NOW))
    header, row = text.strip().split("\n")
    assert header.split(",") == list(CSV_COLUMNS)
    values = dict(zip(CSV_COLUMNS, row.split(","), strict=True))
    assert values["missed"] == "1" and values["punctuality"] == "" and values["continuity"] == ""
