"""The front door: passages through it, time out, and the night exit (the door used at night)."""

from __future__ import annotations

from anomaly import baseline
from anomaly.clock import LocalClock
from anomaly.config import DetectorConfig
from anomaly.model import Action, Raise, signal
from anomaly.state import HomeState

PASSAGE_S = 300.0  # front door events this close are one passage through it


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
    st.today.door_hours[hour] += 1
    minute = clock.minute(t)
    night = minute >= cfg.night_start_min or minute < cfg.night_end_min
    if not night or returning or "night_wandering" in st.open or st.cooling("night_wandering", now):
        return []
    rare = baseline.door_rare(st.baseline, cfg, hour)
    if rare.learned and rare.value > rare.normal:
        return []
    st.open["night_wandering"] = now
    basis = rare.evidence if rare.learned else f"{rare.evidence}; the door is not expected at night"
    text = f"The front door was opened at {clock.hhmm(t)}, at night; {basis}."
    evidence = [{"reading": "front door", "at": clock.hhmm(t), "basis": basis}]
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
