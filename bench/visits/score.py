"""Scoring the visits evaluation: each simulated visit's outcomes from what really happened, the alerts
the product raised about it, and per outcome labels, caught, precision, recall and delay."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import quantiles
from typing import Any
from uuid import UUID

from bench.visits.drive import Raised
from bench.visits.world import World
from simulators.model import HomeStream, SimEvent, VisitRecord

OUTCOMES = ("on_time", "late", "short", "missed", "no_checkout", "unverified", "wrong_home")
ALERT_OF = {
    "late": "visit_late",
    "short": "visit_short",
    "missed": "visit_missed",
    "no_checkout": "visit_no_checkout",
    "unverified": "visit_unverified",
    "wrong_home": "visit_wrong_home",
}
LATE, SHORT = timedelta(minutes=15), 0.75
TARGET_PR, TARGET_DELAY_S = 0.95, 60.0
# A tap at the wrong home is matched to its alert within this (the reader's clock may be minutes off).
MATCH_S = 300.0


def outcomes(visit: VisitRecord) -> set[str]:
    """What happened at a visit, as the rules should see it (empty set: on time and as planned)."""
    check_in, check_out = visit.checks
    start = check_in.at if check_in else visit.actual_start
    end = check_out.at if check_out else (visit.actual_end if visit.checks == (None, None) else None)
    if start is None:
        # Not checked in 15 min after the start is the late rule's condition: a missed visit meets it first.
        return {"missed", "late"}
    out = set()
    if start - visit.planned_start > LATE:
        out.add("late")
    if end is None:
        out.add("no_checkout")
    elif (end - start) < (visit.planned_end - visit.planned_start) * SHORT:
        out.add("short")
    if visit.outcome == "unverified":
        out.add("unverified")
    return out


@dataclass(slots=True)
class Tally:
    """One outcome's figures: standing (after the events that arrived late are in: an alert they showed
    to be unfounded is withdrawn, resolution 'cancelled') and as raised (every alert, withdrawn or not)."""

    labels: int = 0
    caught: int = 0
    flagged: int = 0  # visits (or taps) the outcome's alert stands for
    delays: list[float] | None = None
    raised_caught: int = 0
    raised: int = 0  # visits the outcome's alert was raised for, withdrawn later or not

    def as_json(self) -> dict[str, Any]:
        """The figures, with precision, recall and delay quantiles."""
        delays = sorted(self.delays or [])
        out: dict[str, Any] = {
            "labels": self.labels,
            "caught": self.caught,
            "alerted": self.flagged,
            "precision": _share(self.caught, self.flagged),
            "recall": _share(self.caught, self.labels),
            "as_raised": {
                "caught": self.raised_caught,
                "alerted": self.raised,
                "withdrawn": abs(self.raised - self.flagged),  # on time: visits whose alerts all went
                "precision": _share(self.raised_caught, self.raised),
                "recall": _share(self.raised_caught, self.labels),
            },
        }
        if delays:
            cuts = quantiles(delays, n=100, method="inclusive") if len(delays) > 1 else [delays[0]] * 99
            out["delay_s"] = {
                "p50": round(cuts[49], 1),
                "p95": round(cuts[94], 1),
                "max": round(delays[-1], 1),
            }
        return out


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def score(world: World, raised: list[Raised], withdrawn: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Per outcome: labels, caught, alerted, precision, recall and delays, standing and as raised
    (`withdrawn`: the dedupe keys of alerts withdrawn when a late event arrived); false alarms' causes."""
    by_key = {r.dedupe_key: r for r in raised}
    tallies = {k: Tally(delays=[]) for k in OUTCOMES}
    causes: dict[str, Counter[str]] = {k: Counter() for k in ALERT_OF}
    gone: dict[str, Counter[str]] = {k: Counter() for k in ALERT_OF}
    for home in world.homes:
        for visit in home.stream.visits:
            visit_id = home.visits.get(visit.planned_start)
            if visit_id is None:
                continue
            _visit(home.stream, visit, visit_id, by_key, withdrawn, tallies, (causes, gone))
    _strays(world, raised, tallies["wrong_home"])
    tallies["wrong_home"].raised = tallies["wrong_home"].flagged  # a tap is never withdrawn
    tallies["wrong_home"].raised_caught = tallies["wrong_home"].caught
    return {
        "outcomes": {k: tallies[k].as_json() for k in OUTCOMES},
        "false_alarm_causes": {k: dict(v) for k, v in causes.items() if v},
        "withdrawn_by_cause": {k: dict(v) for k, v in gone.items() if v},
        "alerts_raised": dict(Counter(r.kind for r in raised)),
    }


def _visit(
    stream: HomeStream,
    visit: VisitRecord,
    visit_id: UUID,
    by_key: dict[str, Raised],
    withdrawn: frozenset[str],
    tallies: dict[str, Tally],
    causes: tuple[dict[str, Counter[str]], dict[str, Counter[str]]],
) -> None:
    truth = outcomes(visit)
    ever = {k for k, kind in ALERT_OF.items() if k != "wrong_home" and f"{kind}:{visit_id}" in by_key}
    alerted = {k for k in ever if f"{ALERT_OF[k]}:{visit_id}" not in withdrawn}
    for k in ALERT_OF:
        if k == "wrong_home":
            continue
        t = tallies[k]
        t.labels += k in truth
        t.flagged += k in alerted
        t.raised += k in ever
        t.raised_caught += k in truth and k in ever
        if k in truth and k in ever:
            hit = by_key[f"{ALERT_OF[k]}:{visit_id}"]
            assert t.delays is not None
            t.delays.append((hit.raised_at - _knowable(k, visit, hit, stream)).total_seconds())
        t.caught += k in truth and k in alerted
        if k in ever and k not in truth:
            (causes[0] if k in alerted else causes[1])[k][_cause(visit)] += 1
        elif k in truth and k in ever and k not in alerted:
            causes[1][k]["withdrawn though it had happened: " + _cause(visit)] += 1
    quiet = tallies["on_time"]
    quiet.labels += not truth
    quiet.flagged += not alerted
    quiet.caught += not truth and not alerted
    quiet.raised += not ever
    quiet.raised_caught += not truth and not ever


_TAPS: dict[int, list[SimEvent]] = {}


def tap_arrival(stream: HomeStream, tag_id: str, near: datetime) -> datetime | None:
    """When the door reader's tap of this tag nearest `near` (in real time) reached the backend."""
    key = id(stream)
    if key not in _TAPS:
        _TAPS[key] = [e for e in stream.events if e.kind.value == "tag"]
    taps = [e for e in _TAPS[key] if e.fields.get("tag_id") == tag_id]
    best = min(taps, key=lambda e: abs((e.true_at - near).total_seconds()), default=None)
    if best is None or abs((best.true_at - near).total_seconds()) > 600:
        return None
    return best.publish_at


def _knowable(outcome: str, visit: VisitRecord, hit: Raised, stream: HomeStream) -> datetime:
    """The moment the rule could first know: the alert's own time, or for what a check-out decides,
    when the check-out reached the backend (an offline phone sends it late)."""
    check_out = visit.checks[1]
    if outcome not in ("short", "unverified") or check_out is None:
        return hit.triggered_at
    if check_out.method == "tag":
        # The reader's own clock stamps the alert; when the tap reached the backend is what counts.
        tap = tap_arrival(stream, visit.tag_id, check_out.at)
        arrived = tap if tap is not None else hit.triggered_at
    else:
        arrived = check_out.at + timedelta(seconds=check_out.delay_s)
    if outcome == "unverified":
        arrived += timedelta(seconds=300)
    return max(hit.triggered_at, arrived)


def _cause(visit: VisitRecord) -> str:
    """Why an alert may have been raised about a visit that did not have its outcome."""
    check_in, check_out = visit.checks
    if check_in is not None and check_in.delay_s > 300:
        return "the check-in was sent late (phone offline)"
    if check_out is not None and check_out.delay_s > 300:
        return "the check-out was sent late (phone offline)"
    return f"outcome {visit.outcome}, checked in by {check_in.method if check_in else 'tag'}"


def _strays(world: World, raised: list[Raised], tally: Tally) -> None:
    wrong = [r for r in raised if r.kind == "visit_wrong_home"]
    tally.flagged = len(wrong)
    matched: set[int] = set()
    for home in world.homes:
        for tap in home.stream.strays:
            tally.labels += 1
            hit = next(
                (
                    i
                    for i, r in enumerate(wrong)
                    if i not in matched
                    and r.home_id == home.home_id
                    and abs((r.triggered_at - tap.at).total_seconds()) < MATCH_S
                ),
                None,
            )
            if hit is not None:
                matched.add(hit)
                tally.caught += 1
                assert tally.delays is not None
                arrived = tap_arrival(home.stream, tap.tag_id, tap.at) or wrong[hit].triggered_at
                tally.delays.append((wrong[hit].raised_at - arrived).total_seconds())


def verdicts(rows: list[Any], world: World) -> dict[str, dict[str, int]]:
    """The verification log's verdicts, by the visits' outcome (on_time, or their outcomes joined)."""
    truth: dict[UUID, str] = {}
    for home in world.homes:
        for visit in home.stream.visits:
            visit_id = home.visits.get(visit.planned_start)
            if visit_id is not None:
                truth[visit_id] = "+".join(sorted(outcomes(visit))) or "on_time"
    out: dict[str, Counter[str]] = {}
    for row in rows:
        label = truth.get(row["visit_id"])
        if label is not None:
            out.setdefault(label, Counter())[row["verdict"]] += 1
    return {k: dict(v) for k, v in sorted(out.items())}


def targets(result: dict[str, Any]) -> dict[str, bool]:
    """Which targets were met: precision and recall per outcome, late and missed delays."""
    met = {}
    for k, figures in result["outcomes"].items():
        met[f"{k}_precision"] = (figures["precision"] or 0) >= TARGET_PR
        met[f"{k}_recall"] = (figures["recall"] or 0) >= TARGET_PR
    for k in ("late", "missed"):
        delay = result["outcomes"][k].get("delay_s", {}).get("max")
        met[f"{k}_delay_max_60s"] = delay is not None and delay <= TARGET_DELAY_S
    return met
