"""Scoring the detector's alerts against the simulator's ground-truth incidents."""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from anomaly.clock import LocalClock, day_iso
from bench.evaluation.evaluation import AlertRecord, HomeRun
from simulators.model import Incident

WEEK_S = 7 * 86400.0
# The alert kind that should answer each incident kind (missed visits belong to the visits work).
ALERT_FOR = {
    "alarm_pressed": "alarm_pressed",
    "fall": "fall",
    "fall_cancelled": "fall",
    "inactivity": "inactivity",
    "not_up": "not_up",
    "night_wandering": "night_wandering",
    "bathroom_long": "bathroom_too_long",
    "cold_home": "cold_home",
    "water_leak": "water_leak",
    "smoke": "smoke",
    "device_offline": "device_offline",
    "low_battery": "low_battery",
}
LEARNED = ("inactivity", "not_up", "night_wandering", "bathroom_too_long", "unusual_day")
BEHAVIOUR = ("fall", "inactivity", "not_up", "night_wandering", "bathroom_long")
# Other real incidents that rightly cause an alert of this kind (a fall is also a quiet home).
EXPLAINED_BY = {
    "inactivity": ("fall", "device_offline", "not_up", "bathroom_long"),
    "bathroom_too_long": ("fall", "inactivity"),
    "not_up": ("inactivity", "fall"),
    "device_offline": ("low_battery",),
}
# How early (clock skew, a room colder than the house) and late an alert may come and still count.
EARLY_S = {"cold_home": 6 * 3600.0, "device_offline": 0.0}
LATE_S = {"device_offline": 3600.0, "cold_home": 3600.0}
DEFAULT_EARLY_S = 300.0
DEFAULT_LATE_S = 900.0


@dataclass(slots=True)
class KindScore:
    """Figures of one alert kind."""

    labels: int = 0
    caught: int = 0
    alerts: int = 0
    true_alerts: int = 0
    explained: int = 0
    false_alerts: int = 0
    delays: list[float] = field(default_factory=list)
    beyond_normal: list[float] = field(default_factory=list)

    def as_json(self, home_weeks: float) -> dict[str, Any]:
        """The figures the report and docs/eval/detection.json carry."""
        return {
            "labels": self.labels,
            "caught": self.caught,
            "alerts": self.alerts,
            "true_alerts": self.true_alerts,
            "explained_by_other_incident": self.explained,
            "false_alarms": self.false_alerts,
            "recall": _ratio(self.caught, self.labels),
            "precision": _ratio(self.true_alerts + self.explained, self.alerts),
            "precision_own_label": _ratio(self.true_alerts, self.alerts),
            "false_alarms_per_home_week": round(self.false_alerts / home_weeks, 4) if home_weeks else None,
            "median_delay_s": _q(self.delays, 0.5),
            "p95_delay_s": _q(self.delays, 0.95),
            "median_beyond_normal_s": _q(self.beyond_normal, 0.5),
        }


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


def _q(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return round(values[0], 1)
    return round(statistics.quantiles(values, n=100, method="inclusive")[int(q * 100) - 1], 1)


def _window(label: Incident, kind: str) -> tuple[float, float]:
    return (
        label.start.timestamp() - EARLY_S.get(kind, DEFAULT_EARLY_S),
        label.end.timestamp() + LATE_S.get(kind, DEFAULT_LATE_S),
    )


def _matches(alert: AlertRecord, label: Incident) -> bool:
    low, high = _window(label, alert.kind)
    if not low <= alert.raised_at <= high:
        return False
    if label.kind == "fall_cancelled":
        return alert.resolution == "cancelled"
    return True


def _beyond(alert: AlertRecord) -> float | None:
    for item in alert.evidence:
        if "beyond_normal_s" in item:
            return float(item["beyond_normal_s"])
    return None


def score_run(run: HomeRun, since: float, scores: dict[str, KindScore]) -> None:
    """Add one home's labels and alerts (from `since`, after the learning weeks) to the scores."""
    labels = [i for i in run.incidents if i.kind in ALERT_FOR]
    for label in labels:
        if label.start.timestamp() < since:
            continue
        alert_kind = ALERT_FOR[label.kind]
        score = scores[label.kind if label.kind == "fall_cancelled" else alert_kind]
        score.labels += 1
        hits = [a for a in run.alerts if a.kind == alert_kind and _matches(a, label)]
        if hits:
            first = min(hits, key=lambda a: a.raised_at)
            score.caught += 1
            score.delays.append(max(0.0, first.raised_at - label.start.timestamp()))
            beyond = _beyond(first)
            if beyond is not None:
                score.beyond_normal.append(beyond)
    days = _behaviour_days(run.incidents, run.tz)
    for alert in run.alerts:
        if alert.raised_at < since:
            continue
        score = scores[alert.kind]
        score.alerts += 1
        if alert.kind == "unusual_day":
            if str(alert.evidence[0].get("day")) in days:
                score.true_alerts += 1
            else:
                score.false_alerts += 1
            continue
        own = [lb for lb in labels if ALERT_FOR[lb.kind] == alert.kind and _matches(alert, lb)]
        other = [lb for lb in run.incidents if lb.kind in EXPLAINED_BY.get(alert.kind, ())]
        if own:
            score.true_alerts += 1
        elif any(_window(lb, alert.kind)[0] <= alert.raised_at <= _window(lb, alert.kind)[1] for lb in other):
            score.explained += 1
        else:
            score.false_alerts += 1
    unusual = scores["unusual_day"]
    flagged = {str(a.evidence[0].get("day")) for a in run.alerts if a.kind == "unusual_day"}
    scored_days = {d for d, start in days.items() if start >= since}
    unusual.labels += len(scored_days)
    unusual.caught += len(scored_days & flagged)


def _behaviour_days(incidents: list[Incident], tz: str) -> dict[str, float]:
    """The home-days (04:00 to 04:00, as the detector counts them) with a behavioural incident."""
    clock = LocalClock(tz)
    out: dict[str, float] = {}
    for label in incidents:
        if label.kind in BEHAVIOUR:
            start = label.start.timestamp()
            out.setdefault(day_iso(clock.day(start, 240)), start)
    return out


def summarise(runs: list[HomeRun], learn_days: int) -> dict[str, Any]:
    """Per-kind figures over all homes, and the learned detectors together."""
    scores: dict[str, KindScore] = defaultdict(KindScore)
    home_weeks = 0.0
    for run in runs:
        since = run.start + learn_days * 86400
        score_run(run, since, scores)
        home_weeks += max(0.0, run.end - since) / WEEK_S
    total = KindScore()
    for kind in LEARNED:
        part = scores[kind]
        if kind != "unusual_day":
            total.labels += part.labels
            total.caught += part.caught
            total.delays += part.delays
        total.alerts += part.alerts
        total.true_alerts += part.true_alerts
        total.explained += part.explained
        total.false_alerts += part.false_alerts
    kinds = {kind: scores[kind].as_json(home_weeks) for kind in sorted(scores)}
    kinds["learned_total"] = total.as_json(home_weeks)
    return {"home_weeks": round(home_weeks, 2), "kinds": kinds}
