"""A visit's verdict: the six data elements of electronic visit verification, the check-in method, and
what the home's sensors saw (visits/corroboration.py), weighed into one of four verdicts with reasons in
plain words.

- `missed`: nobody checked in by the end of the visit's window.
- `unverified`: the sensors contradict the check-in: the front door did not open when the carer said
  they arrived (nobody came in), or nothing moved in the home during the visit (the home was empty).
- `verified_with_exceptions`: the visit happened, but late, short, without a check-out, with a task not
  done, a task's room not visited, or checked in by hand or away from the home.
- `verified`: none of that. Where the kit cannot corroborate, the reasons say so and `corroborated` is
  false: the verdict then rests on the check-in alone, and the log does not pretend otherwise.

Privacy: the log keeps the distance of a phone's fix from the home and its accuracy, never the fix.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal
from uuid import UUID
from zoneinfo import ZoneInfo

from visits import corroboration as see
from visits.corroboration import Finding, SensorEvent
from visits.kit import Kit
from visits.recurrence import local_hhmm

Verdict = Literal["verified", "verified_with_exceptions", "unverified", "missed"]
Method = Literal["tag", "phone", "manual"]


@dataclass(slots=True, frozen=True)
class Check:
    """A check-in or check-out: its own time, when it reached us, how, and where (distance, not the fix)."""

    at: datetime
    method: Method
    received_at: datetime | None = None
    distance_m: float | None = None  # of the phone's fix from the home
    accuracy_m: float | None = None
    flags: tuple[str, ...] = ()  # visit_events flags: outside_geofence, not_assigned, manual, late_arrival


@dataclass(slots=True, frozen=True)
class Task:
    """A task of the visit and whether the carer marked it done (None: not marked)."""

    name: str
    done: bool | None = None
    note: str = ""


@dataclass(slots=True, frozen=True)
class VisitFacts:
    """What the visits store says about one visit."""

    visit_id: UUID
    home_id: UUID
    service: str  # the type of service, e.g. "morning call"
    client: str  # the person receiving it
    carers: tuple[str, ...]  # the people providing it
    tz: str
    planned_start: datetime
    planned_end: datetime
    tasks: tuple[Task, ...] = ()
    check_in: Check | None = None
    check_out: Check | None = None
    location: str = ""  # the home's address or name
    geofence_m: float | None = None
    # Seconds to add to the check-in's and check-out's times to put them on the sensors' clock (a door
    # reader whose clock runs fast or slow); the recorded times stay as they are in the log.
    clock_offsets_s: tuple[float, float] = (0.0, 0.0)


@dataclass(slots=True, frozen=True)
class Rules:
    """The thresholds a verdict is judged by."""

    late_after_min: float = 15.0
    short_below: float = 0.75
    window: see.Window = field(default_factory=see.Window)


@dataclass(slots=True, frozen=True)
class Verification:
    """A verdict, its reasons in plain words and the evidence (the EVV elements and what the home saw)."""

    visit_id: UUID
    verdict: Verdict
    reasons: tuple[str, ...]
    evidence: dict[str, Any]
    corroborated: bool  # the home's sensors could check the visit (a door or motion sensor answered)


def verify(
    facts: VisitFacts, kit: Kit, events: Sequence[SensorEvent], rules: Rules | None = None
) -> Verification:
    """Judge one visit from its record and the home's readings around it."""
    rules = rules or Rules()
    tz = ZoneInfo(facts.tz)
    if facts.check_in is None:
        reason = f"Nobody checked in for the visit planned at {local_hhmm(facts.planned_start, tz)}."
        return Verification(facts.visit_id, "missed", (reason,), {"evv": evv_elements(facts)}, False)
    findings = _findings(facts, kit, events, rules, tz)
    contradictions = _contradictions(findings)
    exceptions = _exceptions(facts, findings, rules, tz)
    corroborated = any(f.status in ("seen", "not_seen") for f in findings if f.code in _CORROBORATING)
    if contradictions:
        verdict: Verdict = "unverified"
        reasons = contradictions + exceptions
    elif exceptions:
        verdict, reasons = "verified_with_exceptions", exceptions
    else:
        verdict, reasons = "verified", [_verified_words(corroborated, facts.check_in.method)]
    reasons += [f.text for f in findings if f.status == "not_covered"]
    evidence = {
        "evv": evv_elements(facts),
        "method": {"in": _check_json(facts.check_in), "out": _check_json(facts.check_out)},
        "home": [f.as_json() for f in findings],
        "tasks": [{"task": t.name, "done": t.done, "note": t.note} for t in facts.tasks],
    }
    return Verification(facts.visit_id, verdict, tuple(reasons), evidence, corroborated)


_CORROBORATING = frozenset({"arrival_door", "departure_door", "movement"})


def _findings(
    facts: VisitFacts, kit: Kit, events: Sequence[SensorEvent], rules: Rules, tz: ZoneInfo
) -> list[Finding]:
    assert facts.check_in is not None
    shift_in, shift_out = (timedelta(seconds=s) for s in facts.clock_offsets_s)
    arrival = facts.check_in.at + shift_in
    departure = facts.check_out.at + shift_out if facts.check_out else None
    until = departure or assumed_end(facts, arrival)
    win = rules.window
    names = [t.name for t in facts.tasks]
    return [
        see.door_at(events, kit, arrival, "arrival", win, tz),
        see.door_at(events, kit, departure, "departure", win, tz),
        see.movement(events, kit, arrival, max(until, arrival)),
        *see.task_rooms(events, kit, names, arrival, max(until, arrival)),
        see.empty_before(events, kit, arrival, win),
        see.empty_after(events, kit, departure, win),
    ]


def assumed_end(facts: VisitFacts, arrival: datetime) -> datetime:
    """Where a visit with no check-out is looked at until: its planned end, or, for a carer who came
    after that, the check-in plus the planned length (the planned end alone would leave no time at all
    to see them in, and call a late visit with a forgotten check-out unverified)."""
    return max(facts.planned_end, arrival + (facts.planned_end - facts.planned_start))


def _contradictions(findings: list[Finding]) -> list[str]:
    """The sensors say nobody came in, or that the home was empty through the visit."""
    status = {f.code: f for f in findings}
    out = []
    if status["arrival_door"].status == "not_seen":
        out.append(
            "Nobody came in: " + status["arrival_door"].text[0].lower() + status["arrival_door"].text[1:]
        )
    if status["movement"].status == "not_seen":
        empty = status["empty_before"].status == "seen"
        lead = "The home was empty: " if empty else "Nobody was seen in the home: "
        out.append(lead + "nothing moved there during the visit.")
    return out


def _exceptions(facts: VisitFacts, findings: list[Finding], rules: Rules, tz: ZoneInfo) -> list[str]:
    assert facts.check_in is not None
    out: list[str] = []
    start, planned = facts.check_in.at, facts.planned_start
    late = (start - planned).total_seconds() / 60
    if late > rules.late_after_min:
        out.append(
            f"Late: checked in at {local_hhmm(start, tz)}, {round(late)} min after the planned "
            f"{local_hhmm(planned, tz)}."
        )
    out += _length_exceptions(facts, rules, tz)
    out += _check_exceptions(facts.check_in, "check-in") + _check_exceptions(facts.check_out, "check-out")
    for task in facts.tasks:
        if task.done is False:
            note = f" ({task.note})" if task.note else ""
            out.append(f"Task not done: {task.name}{note}.")
    for f in findings:
        if f.status == "not_seen" and (f.code.startswith("room:") or f.code == "departure_door"):
            out.append(f.text)
    return out


def _length_exceptions(facts: VisitFacts, rules: Rules, tz: ZoneInfo) -> list[str]:
    assert facts.check_in is not None
    if facts.check_out is None:
        return ["No check-out was recorded: the end of the visit is not known."]
    planned = (facts.planned_end - facts.planned_start).total_seconds() / 60
    actual = (facts.check_out.at - facts.check_in.at).total_seconds() / 60
    if planned > 0 and actual < planned * rules.short_below:
        return [f"Short: {round(actual)} min of the planned {round(planned)} min."]
    return []


def _check_exceptions(check: Check | None, what: str) -> list[str]:
    if check is None:
        return []
    out = []
    if check.method == "manual" or "manual" in check.flags:
        out.append(f"The {what} was entered by hand by a coordinator.")
    if "outside_geofence" in check.flags:
        where = f" {round(check.distance_m)} m from the home" if check.distance_m is not None else ""
        out.append(f"The {what} was made away from the home{where}.")
    if "not_assigned" in check.flags or "wrong_home" in check.flags:
        out.append(f"The {what} was made by a carer not assigned to this visit.")
    # A phone that was offline sends late; a door reader's buffer says nothing of the carer.
    late = "late_arrival" in check.flags or "offline" in check.flags
    if check.method == "phone" and check.received_at is not None and late:
        delay = check.received_at - check.at
        if delay > timedelta(minutes=5):
            out.append(
                f"The {what} reached us {round(delay.total_seconds() / 60)} min late (the phone was offline)."
            )
    return out


def _verified_words(corroborated: bool, method: str) -> str:
    by = {"tag": "the home's tag reader", "phone": "the carer's phone", "manual": "a coordinator"}[method]
    if corroborated:
        return f"Checked in and out by {by}; the home's sensors agree."
    return f"Checked in and out by {by}; the home's sensors could not check it."


def evv_elements(facts: VisitFacts) -> dict[str, Any]:
    """The six data elements of electronic visit verification, as recorded (None where missing)."""
    tz = ZoneInfo(facts.tz)
    return {
        "service": facts.service,
        "client": facts.client,
        "carers": list(facts.carers),
        "date": facts.planned_start.astimezone(tz).date().isoformat(),
        "location": facts.location or str(facts.home_id),
        "start": facts.check_in.at.isoformat() if facts.check_in else None,
        "end": facts.check_out.at.isoformat() if facts.check_out else None,
    }


def _check_json(check: Check | None) -> dict[str, Any] | None:
    if check is None:
        return None
    return {
        "method": check.method,
        "at": check.at.isoformat(),
        "received_at": check.received_at.isoformat() if check.received_at else None,
        "distance_m": None if check.distance_m is None else round(check.distance_m),
        "accuracy_m": None if check.accuracy_m is None else round(check.accuracy_m),
        "flags": list(check.flags),
    }
