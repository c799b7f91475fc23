"""The detector's knobs: cautious defaults for new homes, clock and grace periods, learning windows."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True, frozen=True)
class DetectorConfig:
    """Thresholds and periods of the detectors; times in seconds unless the name says minutes."""

    min_history_days: int = 7  # below this a home runs on the cautious defaults
    # Days of history before the daily model is first trained (then weekly). 14 was tried for the real
    # homes; on the simulated homes it raised unusual_day false alarms 19 -> 22 (isolated by reverting it
    # alone: late-riser learning off changed nothing), so the model starts with the baseline, at 7.
    day_model_min_days: int = 7
    history_days: int = 28  # how many recent days the baseline learns from
    default_inactivity_s: float = 2.5 * 3600
    default_wake_min: float = 10 * 60 + 30  # not up by 10:30
    default_bathroom_s: float = 3600.0
    # Without a bed sensor (anomaly/presence.py): last activity after this is taken for going to bed,
    # and the usual first activity of the morning until the home's own is learned.
    default_sleep_min: float = 21 * 60 + 30
    default_usual_wake_min: float = 7 * 60
    default_sit_s: float = 3 * 3600.0  # on an occupied chair mat, no other movement: a milder alert
    # Getting up is learned from the morning (a nap is not a wake), and later only from a bed the
    # resident had been in since their usual getting-up time: a late riser is not learned as an early one.
    wake_learn_end_min: float = 12 * 60
    late_wake_end_min: float = 16 * 60
    # Not up judged by inference (no bed sensor, or the bed sensor did not show them in bed) waits this
    # much longer past the learned time than a bed sensor's word does.
    inferred_wake_slack_min: float = 40.0
    # The front door at night is normal only if used on this many of the learned nights (and a share).
    door_min_nights: int = 3
    night_start_min: float = 23 * 60 + 30
    night_end_min: float = 5 * 60 + 30
    # After a quiet this long, nobody known to be there, one sensor's reading is held until it is
    # confirmed within lone_confirm_s (anomaly/vacancy.py): spurious blips in an empty home start nothing.
    # Longer than the longest quiet the inactivity rule ever waits for (4 h): the home has looked empty.
    lone_quiet_s: float = 6 * 3600.0
    night_quiet_max_s: float = 16 * 3600.0
    lone_confirm_s: float = 600.0
    fall_escalate_s: float = 120.0
    offline_grace_s: float = 600.0
    cold_c: float = 16.0
    hot_c: float = 30.0
    temp_sustain_s: float = 1800.0
    wake_confirm_s: float = 45 * 60
    in_bed_before_not_up_s: float = 2 * 3600
    out_after_door_s: float = 45.0
    carer_grace_s: float = 300.0
    carer_max_s: float = 3 * 3600
    cooldown_s: float = 1800.0
    retrain_days: int = 7
    # The daily model: how far below the least normal training day a day must score to be reported.
    unusual_margin: float = 0.0
    day_start_min: float = 4 * 60  # a home's day runs from 04:00 to 04:00, so a night belongs to one day
    # A home's own clock (anomaly/lag.py): lags up to lag_floor_s are network and clock jitter, not a
    # backlog; the lag is the smallest among readings that arrived within lag_window_s; never over lag_max_s.
    lag_floor_s: float = 300.0
    lag_window_s: float = 120.0
    lag_max_s: float = 86400.0
