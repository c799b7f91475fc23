"""The front door: passages through it, time out, and the night exit (the door used at night)."""

from __future__ import annotations

from typing import Any

from anomaly import baseline
from anomaly.clock import LocalClock
from anomaly.config import DetectorConfig
from anomaly.model import Action, Raise, signal
from anomaly.state import HomeState

PASSAGE_S = 300.0  # front door events this close are one passage through it
# Someone sat on a chair mat in the evening (not gone to bed, before their own usual late bedtime) who
# opens the front door at night is reported only if nothing moves inside for EXIT_CONFIRM_S after it: a
# neighbour at the door, the bins put out late, are not a night exit. After going to bed, past the
# bedtime, or from anywhere but the chair, the door is reported at once.
EXIT_CONFIRM_S = 600.0


def _same_passage(st: HomeState, t: float, opened: bool) -> bool:
    """Events minutes apart are one passage; so is closing a door that was left open, however late."""
    if st.door_at is None:
        return False
    return t - st.door_at < PASSAGE_S or (st.door_open and not opened)


def front_door(
    st: HomeState, t: float, opened: bool, carer: bool, cfg: DetectorConfig, clock: LocalClock, now: float
) -> list[Action]:
    """A front door reading: the start of a passage is counted, and at night it may be a night exit."""
    if carer:
        return []  # the carer coming or going; not the resident leaving
    hour = clock.hour(t)
    # The first door event of a passage decides, and coming home (out since the last passage, nothing
    # moved inside) is not leaving at night.
    same = _same_passage(st, t, opened)
    returning = st.is_out(t, cfg.out_after_door_s)
    st.door_at = t
    st.door_open = opened
    st.moved_since_door = False
    if same:
        return []
    if returning:
        st.exit_pending = None  # out and back before the exit was confirmed: a short trip out
    st.today.door_hours[hour] += 1
    minute = clock.minute(t)
    night = minute >= cfg.night_start_min or minute < cfg.night_end_min
    if not night or returning or "night_wandering" in st.open or st.cooling("night_wandering", now):
        return []
    rare = baseline.door_rare(st.baseline, cfg, hour)
    if rare.learned and rare.value > rare.normal:
        return []
    if _was_up(st) and _before_bedtime(st, cfg, clock, t):
        st.exit_pending = t
        return []
    return _night_exit(st, t, rare, clock, now)


def _was_up(st: HomeState) -> bool:
    """Sat on a chair mat when the door opened, not in bed and not yet gone to bed tonight (a bed mat for
    an hour, or a bedless home's night quiet): answering the door. A walk to the door from anywhere else
    (the restless wandering of dementia, straight from bed) is not."""
    # With a bed sensor, only its word says they went to bed: the evening's long quiet may be time out.
    slept = st.today.evening if st.bedless else st.today.bed
    return bool(st.chairs) and not st.in_bed and slept is None


def _before_bedtime(st: HomeState, cfg: DetectorConfig, clock: LocalClock, t: float) -> bool:
    """Before this resident's own late bedtime (the 90th percentile of the learned ones, and half an
    hour): still their evening. Unlearned, or past it (a resident up in the small hours), it is the night."""
    days = st.baseline.learned(cfg.history_days)
    beds = [d.evening if st.bedless else d.bed for d in days]
    seen = [b for b in beds if b is not None]
    if len(days) < cfg.min_history_days or len(seen) < 5:
        return False
    minute = clock.minute(t)
    late = minute + 1440 if minute < cfg.day_start_min else minute
    return late <= baseline.quantile(seen, 0.9) + 30


def confirm_exit(st: HomeState, cfg: DetectorConfig, clock: LocalClock, now: float) -> list[Action]:
    """A night exit by someone who was up is reported once nothing has moved inside for a while."""
    at = st.exit_pending
    if at is None or now - at < EXIT_CONFIRM_S:
        return []
    st.exit_pending = None
    if st.moved_since_door or "night_wandering" in st.open:
        return []
    rare = baseline.door_rare(st.baseline, cfg, clock.hour(at))
    gone = f"nothing has moved inside since ({round((now - at) / 60)} min), so they may have gone out"
    return _night_exit(st, at, rare, clock, now, gone)


def _night_exit(
    st: HomeState, t: float, rare: baseline.Threshold, clock: LocalClock, now: float, gone: str = ""
) -> list[Action]:
    st.open["night_wandering"] = now
    basis = rare.evidence if rare.learned else f"{rare.evidence}; the door is not expected at night"
    after = f", and {gone}" if gone else ""
    text = f"The front door was opened at {clock.hhmm(t)}, at night{after}; {basis}."
    evidence: list[dict[str, Any]] = [{"reading": "front door", "at": clock.hhmm(t), "basis": basis}]
    if gone:
        evidence.append({"they_were_up_before": True, "waited_s": round(now - t)})
    sig = signal(
        st.home_id,
        "night_wandering",
        "high",
        "night_wandering",
        t,
        "Front door opened at night",
        text,
        evidence,
        room="hallway",
    )
    return [Raise(sig, now)]
