"""'Is she all right?' in plain words, from the detector's live picture of the home and its open alerts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from anomaly.clock import hhmm
from anomaly.config import DetectorConfig
from anomaly.state import HomeState
from console.render import ago

_URGENT = ("critical", "high")


@dataclass(frozen=True, slots=True)
class Fact:
    """One line of the summary: what, and its answer."""

    label: str
    value: str


@dataclass(frozen=True, slots=True)
class Summary:
    """The headline (tone: 'ok', 'attention' or 'unknown') and the facts under it."""

    headline: str
    tone: str
    facts: list[Fact]


def summarise(
    name: str,
    state: HomeState | None,
    open_alerts: Sequence[Any],
    *,
    tz: str,
    now: datetime,
    next_visit: str | None,
) -> Summary:
    """The family's answer for a resident called `name`, now."""
    facts = [
        Fact("Last movement", _last_movement(state, tz, now)),
        Fact("Up today", _up_today(state)),
        Fact("In or out", _in_or_out(state, tz)),
        Fact("Next carer visit", next_visit or "none planned"),
    ]
    urgent = [a for a in open_alerts if a["severity"] in _URGENT]
    if urgent:
        first = urgent[0]
        who = _who_acts(first)
        return Summary(f"{name} may need help: {first['title']}. {who}", "attention", facts)
    if open_alerts:
        return Summary(
            f"{name} seems all right; there is something to check: {open_alerts[0]['title']}.",
            "attention",
            facts,
        )
    if state is None or state.last_act is None:
        return Summary(f"There is no news yet from {name}'s home sensors.", "unknown", facts)
    return Summary(f"{name} seems all right.", "ok", facts)


def _who_acts(alert: Any) -> str:
    if alert["status"] == "acknowledged":
        by = alert["acknowledged_by_name"] or "the care team"
        return f"{by} is dealing with it."
    return "The care team has been alerted."


def _last_movement(state: HomeState | None, tz: str, now: datetime) -> str:
    if state is None or state.last_act is None:
        return "not seen yet"
    at = datetime.fromtimestamp(state.last_act, UTC)
    room = f" in the {state.last_room.replace('_', ' ')}" if state.last_room else ""
    return f"{at.astimezone(ZoneInfo(tz)).strftime('%H:%M')} ({ago(at, now)}){room}"


def _up_today(state: HomeState | None) -> str:
    if state is None:
        return "not known yet"
    if state.in_bed and not state.up_today:
        return "not yet (still in bed)"
    if state.up_today and state.today.wake is not None:
        return f"yes, at {hhmm(state.today.wake)}"
    return "yes" if state.up_today else "not yet"


def _in_or_out(state: HomeState | None, tz: str) -> str:
    if state is None:
        return "not known yet"
    if state.is_out(state.clock, DetectorConfig().out_after_door_s) and state.door_at is not None:
        since = datetime.fromtimestamp(state.door_at, UTC).astimezone(ZoneInfo(tz)).strftime("%H:%M")
        return f"out of the house since {since}"
    if state.in_bed:
        return "at home, in bed"
    return "at home"
