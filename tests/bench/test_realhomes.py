"""The real homes' logs as the evaluation reads them: the MIT logs' epochs are local wall-clock times."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bench.realhomes.homes import HOMES, utc_of


def test_the_mit_logs_epochs_are_read_as_the_homes_wall_clock() -> None:
    mit = next(h for h in HOMES if h.name == "houseD")
    written = datetime(2003, 4, 3, 8, 15, tzinfo=UTC).timestamp()  # breakfast, written as if UTC
    local = datetime.fromtimestamp(utc_of(mit, written), ZoneInfo(mit.tz))
    assert (local.hour, local.minute) == (8, 15)


def test_the_van_kasteren_logs_epochs_stay_utc() -> None:
    house_b = next(h for h in HOMES if h.name == "houseB")
    assert utc_of(house_b, 1_248_183_012.0) == 1_248_183_012.0
