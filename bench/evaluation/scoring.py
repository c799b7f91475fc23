"""Scoring the detector's alerts against the simulator's ground-truth incidents."""

from __future__ import annotations

import statistics
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from anomaly.clock import LocalClock, day_iso
from bench.evaluation.evaluation import AlertRecord, HomeRun, device_id
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


@dataclass(slots=True, frozen=True)
class Cause:
    """An alert kind another incident can rightly cause, and what that incident must involve to cause it.

    `device_types`: the incident's device must be of one of these types (an offline motion sensor
    leaves a room silent; an offline smart plug hides nobody). `rooms`: the incident's room must be one
    of these (a fall in the bathroom is also a long bathroom stay), and not one of `except_rooms`.
    `same_device`: the alert must be about the incident's own device. Unset fields do not restrict.
    """

    device_types: frozenset[str] | None = None
    rooms: frozenset[str] | None = None
    except_rooms: frozenset[str] = frozenset()
    same_device: bool = False


_PRESENCE = frozenset({"motion_sensor", "bed_sensor", "chair_sensor"})
_HOME = Cause()
# For each incident kind, the other alert kinds it can cause. A device's failure excuses only alerts
# that rest on that device's data; a person's condition excuses the alerts that condition produces.
CAUSES: dict[str, dict[str, Cause]] = {
    "device_offline": {
        # The room the resident is in looks empty, or the bed they lie in does: the home looks quiet.
        "inactivity": Cause(device_types=_PRESENCE),
        # The bed looks occupied still.
        "not_up": Cause(device_types=frozenset({"bed_sensor"})),
        # Leaving the bathroom is seen by motion in another room; that room's sensor is gone.
        "bathroom_too_long": Cause(
            device_types=frozenset({"motion_sensor"}), except_rooms=frozenset({"bathroom"})
        ),
    },
    "low_battery": {"device_offline": Cause(same_device=True)},
    "fall": {"inactivity": _HOME, "bathroom_too_long": Cause(rooms=frozenset({"bathroom"}))},
    "inactivity": {
        "bathroom_too_long": Cause(rooms=frozenset({"bathroom"})),
        "not_up": Cause(rooms=frozenset({"bedroom"})),
    },
    "not_up": {"inactivity": _HOME},
    "bathroom_long": {"inactivity": _HOME},
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


def _alert_device(alert: AlertRecord) -> uuid.UUID | None:
    """The device an alert is about, from its dedupe key (`kind:device-id`), if it is about one."""
    _, _, rest = alert.key.partition(":")
    try:
        return uuid.UUID(rest)
    except ValueError:
        return None


def _same_device(run: HomeRun, alert: AlertRecord, label: Incident) -> bool:
    """False only when both name a device and the devices differ."""
    device = _alert_device(alert)
    if device is None or label.device_key is None:
        return True
    return device == device_id(run.home, label.device_key)


def _matches(run: HomeRun, alert: AlertRecord, label: Incident) -> bool:
    low, high = _window(label, alert.kind)
    if not low <= alert.raised_at <= high or not _same_device(run, alert, label):
        return False
    if label.kind == "fall_cancelled":
        return alert.resolution == "cancelled"
    return True


_ROOM_OF = {"bathroom_long": "bathroom", "not_up": "bedroom"}


def _can_cause(run: HomeRun, label: Incident, alert: AlertRecord) -> bool:
    """True when `label`, another real incident, can cause this alert (see CAUSES), at its time."""
    cause = CAUSES.get(label.kind, {}).get(alert.kind)
    if cause is None:
        return False
    low, high = _window(label, alert.kind)
    if not low <= alert.raised_at <= high:
        return False
    spec = run.devices.get(label.device_key) if label.device_key else None
    # Where it happened: its device's room, else the room the simulator noted (a fall's wearable has
    # none), else the room the incident is about.
    room = spec.room if spec and spec.room else _ROOM_OF.get(label.kind, label.detail)
    if cause.device_types is not None and (spec is None or spec.type not in cause.device_types):
        return False
    if cause.rooms is not None and room not in cause.rooms:
        return False
    if room in cause.except_rooms:
        return False
    if cause.same_device:
        return label.device_key is not None and _alert_device(alert) == device_id(run.home, label.device_key)
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
        hits = [a for a in run.alerts if a.kind == alert_kind and _matches(run, a, label)]
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
        if any(ALERT_FOR[lb.kind] == alert.kind and _matches(run, alert, lb) for lb in labels):
            score.true_alerts += 1
        elif any(_can_cause(run, lb, alert) for lb in run.incidents):
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
