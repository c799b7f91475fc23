"""Readings in a home that has been quiet for hours: one sensor's blip alone is not someone there.

A motion sensor in sunlight, a draught from the heating or a pet sets off one sensor now and then in a
home its resident has left; a person coming home, or getting up after a long sit, sets off several
(the door, the hall, the kitchen) or the same one again and again as they move about. After a quiet of
`lone_quiet_s` (`night_quiet_max_s` if it began at bedtime) with nobody known to be there (no occupied
bed or chair mat), a reading is held until it is confirmed, each reading within `lone_confirm_s` of the
one before: by a different device, or by the same one firing for the third time over more than a
minute (then taken from its first reading). A held reading starts nothing (no bathroom stay, no new
quiet spell to judge) and ends nothing: the quiet before it goes on being judged as it was, so a
resident who is at home and unwell is still reported, by the same rules and at the same time as
without the blip.
"""

from __future__ import annotations

from dataclasses import dataclass

from anomaly.config import DetectorConfig
from anomaly.model import Device
from anomaly.state import HomeState

ACTIVITY_ROLES = ("front_door", "door", "bed", "chair", "flush", "activity", "motion", "plug")


def confirmable(devices: list[Device]) -> bool:
    """True if the kit has two or more activity sensors, so a lone reading can be confirmed by another."""
    return sum(1 for d in devices if d.role in ACTIVITY_ROLES) >= 2


@dataclass(slots=True, frozen=True)
class Verdict:
    """Hold the reading, or take it; `first`: take the held device's first reading before it."""

    hold: bool
    first: float | None


TAKE = Verdict(False, None)
HOLD = Verdict(True, None)


def _reset(st: HomeState) -> None:
    st.lone_at, st.lone_dev, st.lone_seen = None, "", 0


def judge(st: HomeState, dev: Device, t: float, cfg: DetectorConfig, *, after_night: bool) -> Verdict:
    """Whether this activity reading is held as a lone one in a home that has been quiet for hours;
    `after_night`: the quiet began when the resident is taken to have gone to bed."""
    last = st.last_act
    if not st.confirmable or st.in_bed or st.beds or st.chairs or dev.role == "front_door":
        _reset(st)
        return TAKE  # someone is known to be there, or this is the way in
    if last is None or t < last:
        return TAKE
    device = str(dev.device_id)
    if st.lone_at is not None and t - st.lone_last <= cfg.lone_confirm_s:
        first = st.lone_at
        if device != st.lone_dev:
            _reset(st)
            return TAKE  # a second sensor within minutes: someone is there
        if st.lone_seen >= 2 and t - first > 60:
            _reset(st)
            return Verdict(False, first)
        st.lone_seen += 1
        st.lone_last = t
        st.today.lone += 1
        return HOLD
    # A night's quiet is sleep, and the first reading after it is getting up, up to a night's length.
    if t - last < (cfg.night_quiet_max_s if after_night else cfg.lone_quiet_s):
        _reset(st)
        return TAKE
    st.lone_at, st.lone_dev, st.lone_seen, st.lone_last = t, device, 1, t
    st.today.lone += 1
    return HOLD
