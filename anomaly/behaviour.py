"""The resident's whereabouts from activity readings, the day's record, and the learned live rules:
inactivity, not up by the usual time, night wandering, too long in the bathroom."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from anomaly import baseline, exits, presence, vacancy
from anomaly.clock import LocalClock, duration, hhmm
from anomaly.config import DetectorConfig
from anomaly.model import APPLIANCE_W, Action, Clear, Device, Raise, Reading, signal
from anomaly.state import HomeState

MEAL_GAP_S = 3600.0
MEAL_W = 500.0  # a kettle or microwave: someone is making food or a drink
# A "stay" longer than this is a missed exit (no sensor saw them leave), not a bathroom visit to learn.
BATH_RECORD_MAX_S = 3 * 3600.0
BATH_DOOR_S = 120.0  # the bathroom door used this long after going in: they are leaving


def _record_spell(st: HomeState, clock: LocalClock, start: float, end: float) -> None:
    """Keep the longest quiet spell touching each hour of the day (the baseline learns from these)."""
    length = min(end - start, 12 * 3600) / 60
    gaps = st.today.sit_gaps if st.spell_seated else st.today.gaps
    t = start
    while t <= end:
        hour = clock.hour(t)
        if gaps[hour] < length:
            gaps[hour] = length
        t += 3600
    hour = clock.hour(end)
    if gaps[hour] < length:
        gaps[hour] = length


def _is_activity(r: Reading, role: str) -> bool:
    if r.kind == "motion":
        return bool(r.payload.get("detected", True))
    if r.kind == "power":
        return (r.value or 0.0) > APPLIANCE_W
    if r.kind == "flush":
        return True
    return role in ("front_door", "door", "bed", "chair", "flush", "activity", "motion", "plug")


def on_activity(
    st: HomeState, r: Reading, dev: Device, cfg: DetectorConfig, clock: LocalClock, now: float
) -> list[Action]:
    """Fold one activity reading into the picture; clear conditions that movement ends."""
    if not _is_activity(r, dev.role):
        return []
    carer = st.carer_present(r.when)
    # Only a quiet long enough to hold a reading asks whether it began at bedtime (a hot path).
    quiet = st.last_act is not None and r.when - st.last_act >= cfg.lone_quiet_s
    night = quiet and st.last_act is not None and presence.asleep_window(st, cfg, clock, st.last_act)
    verdict = vacancy.TAKE if carer else vacancy.judge(st, dev, r.when, cfg, after_night=night)
    if verdict.hold:
        return []  # one sensor alone in a home that has been quiet for hours: not yet someone there
    out: list[Action] = []
    if verdict.first is not None:  # the same sensor again and again: taken from its first reading
        first = replace(r, at=verdict.first, received=verdict.first, clock_suspect=False)
        out += _fold(st, first, dev, carer, cfg, clock, now)
    return out + _fold(st, r, dev, carer, cfg, clock, now)


def _fold(
    st: HomeState, r: Reading, dev: Device, carer: bool, cfg: DetectorConfig, clock: LocalClock, now: float
) -> list[Action]:
    role = dev.role
    t = r.when
    out: list[Action] = []
    late = st.last_act is not None and t < st.last_act
    if role == "bed":
        st.mat_rooms[str(dev.device_id)] = dev.room
        out += _bed(st, str(dev.device_id), bool(r.payload.get("occupied")), t, cfg, clock, now)
    elif role == "chair":
        st.mat_rooms[str(dev.device_id)] = dev.room
        presence.mat(st, role, str(dev.device_id), bool(r.payload.get("occupied")), t)
    elif role == "front_door":
        out += exits.front_door(st, t, bool(r.payload.get("open", True)), carer, cfg, clock, now)
    if role not in ("bed", "chair") and not late and not carer:
        out += _left_mats(st, dev.room, t, cfg, clock, now)
    if not late and not carer:
        presence.evening(st, clock, t)
        if st.bedless:
            presence.bedless_activity(st, cfg, clock, t)
    if not late:
        if st.last_act is not None and (st.spell_ok or st.spell_seated) and not carer:
            _record_spell(st, clock, st.last_act, t)
        st.last_act = t
        st.last_room = dev.room
    # Back inside after the front door: movement, a door, an appliance. A chair mat's press alone is not
    # someone coming home (a cushion settling, a pet); coming home is seen on the way to the chair.
    away = t - st.door_at if st.door_at is not None else 0.0
    if role not in ("front_door", "chair") and away > cfg.out_after_door_s:
        if not st.moved_since_door and not carer and away > 300:
            st.today.out_min += away / 60
        st.moved_since_door = True
        st.exit_pending = None
        out += _back_inside(st, t, dev, clock, now)
    # Not learned as an awake quiet spell: one that begins at the front door (maybe time out), in bed,
    # on a chair mat (someone is known to be there), or in a bedless home's inferred sleep.
    st.spell_ok = (
        not st.in_bed
        and not st.chairs
        and not carer
        and role != "front_door"
        and not st.is_out(t, cfg.out_after_door_s)
        and not presence.asleep_window(st, cfg, clock, t)
    )
    st.spell_seated = bool(st.chairs) and not st.in_bed and not carer
    out += _rooms(st, r, dev, t, carer, clock, now)
    if not late:
        out += _moved(st, dev, t, clock, now)
    if not carer:
        st.today.activity += 1
    return out


def _moved(st: HomeState, dev: Device, t: float, clock: LocalClock, now: float) -> list[Action]:
    """Activity ends a quiet spell, and a bedless home's inferred lie-in."""
    out: list[Action] = []
    if "inactivity" in st.open:
        del st.open["inactivity"]
        note = f"movement resumed at {clock.hhmm(t)} ({dev.label})"
        out.append(Clear(st.home_id, "inactivity", "inactivity", now, note))
    if not st.in_bed and st.open.pop("not_up", None) is not None:
        note = f"up at {clock.hhmm(t)} ({dev.label})"
        out.append(Clear(st.home_id, "not_up", "not_up", now, note))
    return out


def _left_mats(
    st: HomeState, room: str, t: float, cfg: DetectorConfig, clock: LocalClock, now: float
) -> list[Action]:
    """One resident: activity in another room means they have left the bed or chair, whatever a mat
    that reports only presses (or is stuck) last said."""
    out: list[Action] = []
    for device in [d for d in st.beds if st.mat_rooms.get(d, room) != room]:
        out += _bed(st, device, False, t, cfg, clock, now)
    for device in [d for d in st.chairs if st.mat_rooms.get(d, room) != room]:
        presence.mat(st, "chair", device, False, t)
    return out


def _back_inside(st: HomeState, t: float, dev: Device, clock: LocalClock, now: float) -> list[Action]:
    """Without a bed sensor, movement inside after the night's passage through the door (the caller
    checks it came after the passage) ends the night-exit alert, so that a later exit raises again."""
    if not st.bedless or "night_wandering" not in st.open:
        return []
    del st.open["night_wandering"]
    note = f"movement inside at {clock.hhmm(t)} ({dev.label})"
    return [Clear(st.home_id, "night_wandering", "night_wandering", now, note)]


def _rooms(
    st: HomeState, r: Reading, dev: Device, t: float, carer: bool, clock: LocalClock, now: float
) -> list[Action]:
    """Room counts, meals, bathroom stays."""
    out: list[Action] = []
    room = dev.room
    if not carer and r.kind == "motion":
        st.today.rooms[room] = st.today.rooms.get(room, 0) + 1
    if room == "kitchen" and not carer and (dev.role == "door" or (r.value or 0.0) > MEAL_W):
        if t - st.last_meal > MEAL_GAP_S:
            st.today.meals += 1
        st.last_meal = t
    if not room:
        return out
    door = dev.role == "door"
    if room == "bathroom" and door and "bathroom" not in st.blind:
        return _bathroom_door(st, r, t, carer, clock, now)
    if room == "bathroom" and door and st.bath_since is not None and t - st.bath_since >= BATH_DOOR_S:
        st.bath_left = t  # the bathroom door opened well after going in: leaving
        return _end_bath(st, t, carer, clock, now)
    if room == "bathroom" and not (door and t - st.bath_left < BATH_DOOR_S):
        if st.bath_since is None:
            st.bath_since = t
            minute = clock.minute(t)
            if not carer and (minute < 6 * 60 or not st.up_today):
                st.today.night_toilet += 1
    elif room != "bathroom" and st.bath_since is not None and t >= st.bath_since:
        # Any sensor elsewhere (motion, a door, a bed or chair mat, a plug) means they have left.
        out += _end_bath(st, t, carer, clock, now)
    return out


def _bathroom_door(
    st: HomeState, r: Reading, t: float, carer: bool, clock: LocalClock, now: float
) -> list[Action]:
    """With a motion sensor in the bathroom, its door is only the way in and out: it does not start a
    stay (someone may shut it from outside), and opening it during one is leaving; movement inside
    afterwards starts a new stay."""
    if st.bath_since is None or not r.payload.get("open", True):
        return []
    st.bath_left = t
    return _end_bath(st, t, carer, clock, now)


def _end_bath(st: HomeState, t: float, carer: bool, clock: LocalClock, now: float) -> list[Action]:
    since = st.bath_since if st.bath_since is not None else t
    stay = t - since
    if not carer and stay < BATH_RECORD_MAX_S:
        st.today.bath_max = max(st.today.bath_max, stay / 60)
    st.bath_since = None
    if st.open.pop("bathroom_too_long", None) is None:
        return []
    note = f"left the bathroom at {clock.hhmm(t)} after {duration(stay)}"
    return [Clear(st.home_id, "bathroom_too_long", "bathroom_too_long", now, note)]


def _bed(
    st: HomeState, device: str, occupied: bool, t: float, cfg: DetectorConfig, clock: LocalClock, now: float
) -> list[Action]:
    out: list[Action] = []
    minute = clock.minute(t)
    was = st.in_bed
    presence.mat(st, "bed", device, occupied, t)
    # Several mats (left and right side): in bed while any of them is occupied.
    occupied = bool(st.beds)
    st.in_bed = occupied
    if occupied == was:
        if occupied and st.open.pop("night_wandering", None) is not None:
            note = f"back in bed at {clock.hhmm(t)}"
            out.append(Clear(st.home_id, "night_wandering", "night_wandering", now, note))
        return out
    in_bed_since, st.bed_at = st.bed_at, t
    if occupied:
        st.wake_pending = None
        if st.today.bed is None and st.bed_candidate is None and (minute >= 18 * 60 or minute < 240):
            st.bed_candidate = t
        if st.open.pop("night_wandering", None) is not None:
            note = f"back in bed at {clock.hhmm(t)}"
            out.append(Clear(st.home_id, "night_wandering", "night_wandering", now, note))
        return out
    if st.bed_candidate is not None and t - st.bed_candidate < 3600:
        st.bed_candidate = None
    if _getting_up(st, in_bed_since, t, cfg, clock):
        st.wake_pending = t
    if st.open.pop("not_up", None) is not None:
        st.cooldown["not_up"] = now + cfg.cooldown_s
        out.append(Clear(st.home_id, "not_up", "not_up", now, f"out of bed at {clock.hhmm(t)}"))
    return out


def _getting_up(st: HomeState, in_bed_since: float, t: float, cfg: DetectorConfig, clock: LocalClock) -> bool:
    """Leaving the bed at t is the day's getting up (to be confirmed): in the morning; or later, out of
    a bed they had been in since before their usual time (a late riser, learned as late). A nap after
    lunch following a morning exit that was not seen must not teach the home that noon is a normal time
    to get up."""
    minute = clock.minute(t)
    if st.up_today or minute < 240:
        return False
    if minute < cfg.wake_learn_end_min:
        return True
    usual = clock.at_minute(t, presence.usual_wake(st, cfg))
    return minute < cfg.late_wake_end_min and in_bed_since < usual


def check_clock(st: HomeState, cfg: DetectorConfig, clock: LocalClock, now: float) -> list[Action]:
    """The rules that silence can break: inactivity, not up, too long in the bathroom."""
    out: list[Action] = []
    if not st.bedless and st.wake_pending is not None and now - st.wake_pending >= cfg.wake_confirm_s:
        st.today.wake = clock.minute(st.wake_pending)
        st.up_today = True
        st.wake_pending = None
    if st.bed_candidate is not None and now - st.bed_candidate >= 3600 and st.in_bed:
        bed = clock.minute(st.bed_candidate)
        st.today.bed = bed + 1440 if bed < 240 else bed
        st.bed_candidate = None
    carer = st.carer_present(now)
    if not carer:
        out += _inactivity(st, cfg, clock, now)
        out += _bathroom(st, cfg, clock, now)
    out += _not_up(st, cfg, clock, now)
    return out + exits.confirm_exit(st, cfg, clock, now)


def _inactivity(st: HomeState, cfg: DetectorConfig, clock: LocalClock, now: float) -> list[Action]:
    last = st.last_act
    if last is None or st.in_bed or "inactivity" in st.open or st.is_out(now, cfg.out_after_door_s):
        return []
    if presence.asleep_window(st, cfg, clock, last):
        return []  # inferred asleep (in a chair too): a lie-in is the not-up detector's to judge
    if st.chairs:
        return presence.long_sit(st, cfg, clock, now)
    limit = baseline.inactivity(st.baseline, cfg, clock.hour(last))
    if math.isinf(limit.value):
        return []  # long quiet is normal here at this hour: the morning check judges it
    if now - last < limit.value:
        return []
    st.open["inactivity"] = now
    where = f" (last seen in the {st.last_room})" if st.last_room else ""
    quiet = duration(now - last)
    text = f"No movement in the home since {clock.hhmm(last)}{where}, {quiet}; {limit.evidence}."
    if st.blind:
        text += (
            f" Not covered by a motion sensor: {', '.join(st.blind)}; someone sitting still there is "
            "not seen."
        )
    evidence: list[dict[str, Any]] = [
        {"last_movement": clock.hhmm(last), "room": st.last_room, "quiet_s": round(now - last)},
        {
            "threshold_s": round(limit.value),
            "normal_s": round(limit.normal),
            "learned": limit.learned,
            "beyond_normal_s": round(now - last - limit.normal),
        },
    ]
    sig = signal(
        st.home_id,
        "inactivity",
        "high",
        "inactivity",
        last + limit.value,
        f"No movement since {clock.hhmm(last)}",
        text,
        evidence,
        room=st.last_room,
    )
    return [Raise(sig, now)]


def _not_up(st: HomeState, cfg: DetectorConfig, clock: LocalClock, now: float) -> list[Action]:
    last = st.last_act
    inferred = not st.in_bed and last is not None and presence.unjudged(st, cfg, clock, last)
    if st.up_today or not (st.in_bed or inferred) or "not_up" in st.open or st.cooling("not_up", now):
        return []
    if inferred and st.is_out(now, cfg.out_after_door_s):
        return []  # out since the evening (the front door, nothing moved inside): not a lie-in
    since = last if inferred and last is not None else st.bed_at
    if now - since < cfg.in_bed_before_not_up_s:
        return []
    minute = clock.minute(now)
    if not 240 <= minute < 14 * 60:
        return []
    limit = baseline.wake(st.baseline, cfg, clock.weekend(now), inferred=inferred)
    if minute < limit.value:
        return []
    st.open["not_up"] = now
    text = f"Still in bed at {clock.hhmm(now)}; {limit.evidence}."
    if inferred:
        text = (
            f"No movement since {clock.hhmm(since)} and none yet this morning at {clock.hhmm(now)}; "
            f"{limit.evidence}. Inferred: {presence.INFERRED if st.bedless else presence.NOT_IN_BED}."
        )
    beyond = round(now - clock.at_minute(now, limit.normal))
    evidence: list[dict[str, Any]] = [
        {
            "in_bed_since": clock.hhmm(since),
            "inferred": inferred,
            "alert_by": hhmm(limit.value),
            "usual_latest": hhmm(limit.normal),
            "learned": limit.learned,
            "beyond_normal_s": beyond,
        }
    ]
    sig = signal(
        st.home_id,
        "not_up",
        "high",
        "not_up",
        clock.at_minute(now, limit.value),
        f"Not up by {hhmm(limit.value)}",
        text,
        evidence,
        room="bedroom",
    )
    return [Raise(sig, now)]


def _bathroom(st: HomeState, cfg: DetectorConfig, clock: LocalClock, now: float) -> list[Action]:
    since = st.bath_since
    if since is None or "bathroom_too_long" in st.open or st.in_bed or "bathroom" in st.blind:
        return []  # without a motion sensor there, a stay cannot be told from leaving unseen
    limit = baseline.bathroom(st.baseline, cfg)
    if now - since < limit.value:
        return []
    st.open["bathroom_too_long"] = now
    text = f"In the bathroom since {clock.hhmm(since)} ({duration(now - since)}); {limit.evidence}."
    evidence = [{"in_bathroom_since": clock.hhmm(since), "threshold_s": round(limit.value)}]
    sig = signal(
        st.home_id,
        "bathroom_too_long",
        "high",
        "bathroom_too_long",
        since + limit.value,
        "Long time in the bathroom",
        text,
        evidence,
        room="bathroom",
    )
    return [Raise(sig, now)]
