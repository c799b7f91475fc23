"""What the kit lets the detector know: mats report a state (someone is there until the mat says
otherwise), sleep is inferred where there is no bed sensor, and what the sensors present cannot judge."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from alerts.service import Severity
from anomaly import baseline, vacancy
from anomaly.baseline import quantile
from anomaly.clock import LocalClock, duration
from anomaly.config import DetectorConfig
from anomaly.model import Action, Device, Raise, signal
from anomaly.state import HomeState

INFERRED = (
    "there is no bed sensor here, so sleep is inferred from the evening's last activity and the night's quiet"
)
NOT_IN_BED = "the bed sensor does not show them in bed, so sleep is inferred from the night's quiet"
EVENING_QUIET_S = 3 * 3600.0  # a quiet spell this long after the evening's last activity is the night


def kit_state(st: HomeState, devices: Iterable[Device]) -> None:
    """What the home's devices say it can know: a bed sensor or not, rooms without a motion sensor."""
    kit = list(devices)
    st.bedless = bool(kit) and not any(d.role == "bed" for d in kit)
    rooms = {d.room for d in kit if d.room and d.role not in ("temp", "water", "smoke", "reader")}
    seen = {d.room for d in kit if d.role == "motion"}
    st.blind = sorted(rooms - seen)
    st.confirmable = vacancy.confirmable(kit)


def kit_notes(st: HomeState, devices: Iterable[Device]) -> list[str]:
    """In words, what the detector cannot judge (or only infers) with this home's kit."""
    kit = list(devices)
    roles = {d.role for d in kit}
    notes = []
    if st.bedless:
        notes.append(f"not up / sleep: {INFERRED}")
    if "front_door" not in roles:
        notes.append("front door at night: no front door contact, a night exit cannot be seen")
    if not any(d.room == "bathroom" for d in kit):
        notes.append("bathroom: no sensor in the bathroom, a long stay there cannot be seen")
    elif "bathroom" in st.blind:
        notes.append(
            "bathroom: no motion sensor there, so a long stay cannot be told from leaving for a room "
            "without sensors; a long silence there is caught as inactivity"
        )
    if st.blind:
        notes.append(
            f"no motion sensor in {', '.join(st.blind)}: time there is seen only through doors, mats, "
            "plugs and other state-change sensors, so a quiet spell there may be someone sitting still"
        )
    sensors = [d for d in kit if d.role != "wearable"]
    if sensors and all(d.event_only for d in sensors):
        notes.append(
            "device health: no sensor sends heartbeats, so a failed one cannot be told from a quiet one"
        )
    return notes


def asleep_window(st: HomeState, cfg: DetectorConfig, clock: LocalClock, t: float) -> bool:
    """A quiet spell beginning at t (and nobody in bed by the sensor) is taken for sleep: from the
    evening's usual last activity to the usual first one of the morning. Without a bed sensor this is
    all there is; with one, it covers a mat that shows only presses, or a night on the sofa."""
    minute = clock.minute(t)
    return minute >= evening_limit(st, cfg) or minute < usual_wake(st, cfg)


def unjudged(st: HomeState, cfg: DetectorConfig, clock: LocalClock, t: float) -> bool:
    """A quiet spell from t is not judged by its length: inferred sleep, or an hour at which this home's
    normal quiet spells run longer than any limit (the morning check judges it instead)."""
    if asleep_window(st, cfg, clock, t):
        return True
    return math.isinf(baseline.inactivity(st.baseline, cfg, clock.hour(t)).value)


def evening_limit(st: HomeState, cfg: DetectorConfig) -> float:
    """Minute after which the last activity of the day is taken for going to bed (learned, or 21:30)."""
    evenings = [d.evening for d in st.baseline.learned(cfg.history_days) if d.evening is not None]
    if len(evenings) < 5:
        return cfg.default_sleep_min
    return min(1439.0, max(20 * 60.0, quantile(evenings, 0.1) - 30))


def usual_wake(st: HomeState, cfg: DetectorConfig) -> float:
    """The usual first activity of the morning (learned median, or 07:00)."""
    woke = [d.wake for d in st.baseline.learned(cfg.history_days) if d.wake is not None]
    if len(woke) < 5:
        return cfg.default_usual_wake_min
    return min(10 * 60.0, max(5 * 60.0, quantile(woke, 0.5)))


def evening(st: HomeState, clock: LocalClock, t: float) -> None:
    """A reading after the night's quiet: when the evening's last activity was."""
    last = st.last_act
    if last is not None and t - last >= EVENING_QUIET_S:
        minute = clock.minute(last)
        if minute >= 18 * 60 or minute < 240:
            st.today.evening = minute + 1440 if minute < 240 else minute


def bedless_activity(st: HomeState, cfg: DetectorConfig, clock: LocalClock, t: float) -> None:
    """A bedless home's reading: the morning's first activity, once confirmed, is the getting up."""
    if st.up_today or not cfg.night_end_min <= clock.minute(t) < cfg.wake_learn_end_min:
        return
    # The first reading of the morning, confirmed by two more within half an hour (not a toilet visit).
    if st.wake_pending is None or t - st.wake_pending > 1800:
        st.wake_pending, st.wake_seen = t, 0
        return
    st.wake_seen += 1
    if st.wake_seen >= 2:
        st.today.wake = clock.minute(st.wake_pending)
        st.up_today = True
        st.wake_pending = None


def mat(st: HomeState, role: str, device: str, occupied: bool, t: float) -> None:
    """A bed or chair mat changed state: someone is there from now until it says otherwise."""
    mats = st.beds if role == "bed" else st.chairs
    since = mats.pop(device, None)
    if occupied:
        mats[device] = since if since is not None else t


def long_sit(st: HomeState, cfg: DetectorConfig, clock: LocalClock, now: float) -> list[Action]:
    """Sat on an occupied chair mat with no other movement for longer than this person's long sits."""
    last = st.last_act
    if last is None:
        return []
    limit = baseline.seated(st.baseline, cfg, clock.hour(last))
    # The mat shows someone there: that makes a quiet spell less worrying than an empty-looking home, so
    # a sit is never judged sooner than the home's ordinary quiet at that hour.
    ordinary = baseline.inactivity(st.baseline, cfg, clock.hour(last))
    if math.isfinite(ordinary.value) and ordinary.value > limit.value:
        limit = replace(limit, value=ordinary.value, evidence=f"{limit.evidence}; {ordinary.evidence}")
    if now - last < limit.value:
        return []
    st.open["inactivity"] = now
    since = min(st.chairs.values())
    text = (
        f"Sitting (the chair mat is occupied) since {clock.hhmm(since)}, with no other movement since "
        f"{clock.hhmm(last)} ({duration(now - last)}); {limit.evidence}. The mat shows someone is there, "
        "so this is a long sit, not an empty home."
    )
    evidence: list[dict[str, Any]] = [
        {"seated_since": clock.hhmm(since), "last_movement": clock.hhmm(last), "quiet_s": round(now - last)},
        {
            "threshold_s": round(limit.value),
            "normal_s": round(limit.normal),
            "learned": limit.learned,
            "beyond_normal_s": round(now - last - limit.normal),
        },
    ]
    # Unusually still for this person's own sits is as worrying as a quiet home; a long sit measured
    # against the cautious default only is worth a milder alert.
    severity: Severity = "high" if limit.learned else "medium"
    title = f"Sitting still since {clock.hhmm(last)}"
    sig = signal(st.home_id, "inactivity", severity, "inactivity", last + limit.value, title, text, evidence)
    return [Raise(sig, now)]
