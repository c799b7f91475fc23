"""Learning a home's normal from its own finished days: thresholds, with the evidence behind them.

Each function returns the threshold and a sentence of evidence; a home with too little history gets
the cautious default and says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from anomaly.clock import duration, hhmm
from anomaly.config import DetectorConfig
from anomaly.state import Baseline, Day

INACTIVITY_CAP_MIN = 240.0  # a learned quiet limit never exceeds this


@dataclass(slots=True, frozen=True)
class Threshold:
    """A learned (or default) limit, what was normal, and the evidence in words."""

    value: float
    normal: float
    learned: bool
    evidence: str


def quantile(values: list[float], q: float) -> float:
    """The q-quantile by linear interpolation; values must not be empty."""
    ordered = sorted(values)
    pos = q * (len(ordered) - 1)
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def _history_note(days: int, cfg: DetectorConfig) -> str:
    return (
        f"this home has {days} day{'s' if days != 1 else ''} of history, fewer than the "
        f"{cfg.min_history_days} needed to learn its normal, so a cautious default is used"
    )


def _feedback(baseline: Baseline, kind: str) -> int:
    return min(4, baseline.false_alarms.get(kind, 0))


def inactivity(baseline: Baseline, cfg: DetectorConfig, hour: int) -> Threshold:
    """How long the home may be quiet (resident up and at home) around this hour before it is unusual."""
    days = baseline.learned(cfg.history_days)
    if len(days) < cfg.min_history_days:
        value = cfg.default_inactivity_s
        return Threshold(value, value, False, _history_note(len(days), cfg))
    spells = [max(d.gaps[hour], d.gaps[(hour + 1) % 24]) for d in days]
    awake = [s for s in spells if s >= 0]
    if len(awake) < min(len(days) // 2, 5):
        # Asleep or out at this hour on all but a few days: no pattern to compare with; the cautious
        # default. Five days up at home are enough: a resident out at work most afternoons is still
        # judged by their own quiet on the afternoons they are in (the real homes' young residents).
        value = cfg.default_inactivity_s
        return Threshold(value, value, False, f"the resident is rarely up at home around {hour:02d}:00")
    normal_min = quantile(awake, 0.9)
    factor = 1.0 + 0.25 * _feedback(baseline, "inactivity")
    if normal_min * 1.2 + 20 > INACTIVITY_CAP_MIN:
        # Here, quiet spells beyond the cap are normal around this hour (rooms without sensors, an
        # evening that runs into the night): time alone cannot tell a silence; the morning check can.
        evidence = (
            f"quiet spells of more than {duration(INACTIVITY_CAP_MIN * 60)} are normal in this home around "
            f"{hour:02d}:00 (usually up to {duration(normal_min * 60)}), so a silence then is not judged by "
            "its length; if nothing moves by the usual getting-up time, that is reported"
        )
        return Threshold(math.inf, normal_min * 60, True, evidence)
    limit_min = min(INACTIVITY_CAP_MIN, max(45.0, (normal_min * 1.2 + 20) * factor))
    within = sum(1 for s in awake if s <= limit_min)
    evidence = (
        f"on {within} of the last {len(awake)} days with the resident up at this time, the home was never "
        f"quiet for {duration(limit_min * 60)} around {hour:02d}:00 (usually at most "
        f"{duration(normal_min * 60)})"
    )
    return Threshold(limit_min * 60, normal_min * 60, True, evidence)


def seated(baseline: Baseline, cfg: DetectorConfig, hour: int) -> Threshold:
    """How long someone sat on an occupied chair mat may stay still around this hour (their own sits)."""
    days = baseline.learned(cfg.history_days)
    spells = [max(d.sit_gaps[(hour + k) % 24] for k in range(-2, 3)) for d in days]
    sat = [s for s in spells if s >= 0]
    if len(days) < cfg.min_history_days or len(sat) < 5:
        value = cfg.default_sit_s
        return Threshold(value, value, False, "a cautious default for a long sit is used")
    normal_min = quantile(sat, 0.9)
    factor = 1.0 + 0.25 * _feedback(baseline, "inactivity")
    limit_min = min(300.0, max(45.0, (normal_min * 1.2 + 20) * factor))
    evidence = (
        f"on {len(sat)} recent days sitting around {hour:02d}:00 they were usually still for at most "
        f"{duration(normal_min * 60)}"
    )
    return Threshold(limit_min * 60, normal_min * 60, True, evidence)


def wake(baseline: Baseline, cfg: DetectorConfig, weekend: bool, *, inferred: bool = False) -> Threshold:
    """The local minute by which the resident is normally up, plus a margin (wider when inferred)."""
    days = baseline.learned(cfg.history_days)
    if len(days) < cfg.min_history_days:
        value = cfg.default_wake_min
        return Threshold(value, value, False, _history_note(len(days), cfg))
    same = [d.wake for d in days if d.wake is not None and _is_weekend(d) == weekend]
    woke = same if len(same) >= 5 else [d.wake for d in days if d.wake is not None]
    if len(woke) < 5:
        # Too few to learn from, but a getting-up time already seen later than the default is no lie-in.
        value = max([cfg.default_wake_min, *(w + 20 for w in woke)])
        seen = f" (the latest seen {hhmm(max(woke))})" if woke else ""
        return Threshold(value, value, False, f"no regular getting-up time has been seen yet{seen}")
    latest = quantile(woke, 0.95)
    middle = quantile(woke, 0.5)
    shift = 20.0 * _feedback(baseline, "not_up") + (cfg.inferred_wake_slack_min if inferred else 0.0)
    limit = min(14 * 60.0, max(latest + 20, middle + 60) + shift)
    within = sum(1 for w in woke if w <= limit)
    kind = "weekend" if weekend and woke is same else "recent"
    evidence = (
        f"on {within} of the last {len(woke)} {kind} days they were up by {hhmm(limit)} "
        f"(usually about {hhmm(middle)})"
    )
    return Threshold(limit, latest, True, evidence)


def bathroom(baseline: Baseline, cfg: DetectorConfig) -> Threshold:
    """How long a bathroom stay may last before it is unusually long."""
    days = baseline.learned(cfg.history_days)
    stays = [d.bath_max for d in days if d.bath_max > 0]
    if len(days) < cfg.min_history_days or len(stays) < 5:
        value = cfg.default_bathroom_s
        return Threshold(value, value, False, _history_note(len(days), cfg))
    normal = quantile(stays, 0.9)
    limit = min(90.0, max(35.0, normal + 15 + 10 * _feedback(baseline, "bathroom_too_long")))
    within = sum(1 for s in stays if s <= limit)
    evidence = (
        f"on {within} of the last {len(stays)} days no bathroom visit lasted {duration(limit * 60)} "
        f"(the longest usually about {duration(normal * 60)})"
    )
    return Threshold(limit * 60, normal * 60, True, evidence)


def door_rare(baseline: Baseline, cfg: DetectorConfig, hour: int) -> Threshold:
    """Whether the front door at this hour is unusual: value is the share of days it was used then."""
    days = baseline.learned(cfg.history_days)
    if len(days) < cfg.min_history_days:
        return Threshold(0.0, 0.0, False, _history_note(len(days), cfg))
    # A night exit someone confirmed is not evidence of normal; one or two nights are not a habit.
    used = sum(1 for d in days if d.door_hours[hour] - d.door_confirmed[hour] > 0)
    allowed = 0.1 + 0.1 * _feedback(baseline, "night_wandering")
    share = used / len(days) if used >= cfg.door_min_nights else 0.0
    evidence = f"the front door was used around {hour:02d}:00 on {used} of the last {len(days)} nights"
    return Threshold(share, allowed, True, evidence)


def _is_weekend(day: Day) -> bool:
    return (day.day + 3) % 7 >= 5
