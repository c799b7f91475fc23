"""What the sensors see of the resident's segments: motion, doors, pads, plugs, flushes, tags."""

from __future__ import annotations

import random
from datetime import datetime

from devices.contract import MessageKind
from simulators.layouts import Layout
from simulators.profiles import Profile
from simulators.timeline import OUT, Act, Emit, Segment, minutes, seconds

# Appliance use per meal: (chance of the kettle, chance of the microwave or None for the profile's own).
_MEALS: dict[str, tuple[float, float | None]] = {
    "breakfast": (0.95, 0.1),
    "lunch": (0.6, None),
    "dinner": (0.45, None),
    "snack": (0.6, 0.05),
    "tea": (0.95, 0.0),
    "night": (0.4, 0.05),
    "carer": (0.8, 0.5),
}
# Minutes between PIR triggers while someone moves about in a room, by activity.
_CADENCE: dict[Act, tuple[float, float]] = {
    Act.TOILET: (0.5, 2.0),
    Act.WASH: (1.0, 3.0),
    Act.DRESS: (1.0, 3.5),
    Act.CHORES: (1.0, 4.0),
    Act.MEAL: (1.0, 3.0),
    Act.EAT: (3.0, 8.0),
    Act.GREET: (0.5, 1.5),
    Act.VISITOR: (1.0, 3.0),
    Act.CARER: (0.5, 2.0),
    Act.WANDER: (0.3, 1.0),
    Act.BATH_LONG: (4.0, 12.0),
}
TV_STANDBY_W = 0.5


class Sink:
    """Collects readings, silently skipping devices the layout does not have."""

    def __init__(self, layout: Layout) -> None:
        self.keys = {d.key for d in layout.devices}
        self.out: list[Emit] = []

    def add(self, at: datetime, key: str, kind: MessageKind, **fields: object) -> None:
        """Record one reading if the device exists."""
        if key in self.keys:
            self.out.append(Emit(at, key, kind, dict(fields)))

    def motion(self, at: datetime, room: str) -> None:
        """A PIR trigger in a room (PIRs report motion starts only)."""
        self.add(at, f"motion-{room}", MessageKind.MOTION, detected=True)

    def power(self, at: datetime, appliance: str, watts: float) -> None:
        """A smart plug reporting a new power draw."""
        self.add(at, f"plug-{appliance}", MessageKind.POWER, watts=round(watts, 1), appliance=appliance)

    def door(self, at: datetime, key: str, rng: random.Random, lo_s: float = 5, hi_s: float = 15) -> datetime:
        """A door opened at `at` and closed a little later; returns when it closed."""
        shut = seconds(at, rng.uniform(lo_s, hi_s))
        self.add(at, key, MessageKind.CONTACT, open=True)
        self.add(shut, key, MessageKind.CONTACT, open=False)
        return shut


def _clip(seg: Segment, moment: datetime) -> datetime:
    # Keeps a segment's events inside it, so pad and plug states change in the order segments do.
    return min(moment, seg.start + (seg.end - seg.start) * 0.9)


def _offs(sink: Sink, prev: Segment, seg: Segment) -> None:
    if prev.bed and not seg.bed:
        sink.add(_clip(seg, seconds(seg.start, 2)), "bed-bedroom", MessageKind.OCCUPANCY, occupied=False)
    if prev.chair and not seg.chair:
        sink.add(_clip(seg, seconds(seg.start, 2)), "chair-lounge", MessageKind.OCCUPANCY, occupied=False)
    if prev.tv and not seg.tv:
        sink.power(_clip(seg, seconds(seg.start, 3)), "tv", TV_STANDBY_W)


def _ons(sink: Sink, prev: Segment, seg: Segment, walk: datetime, rng: random.Random) -> None:
    if seg.bed and not prev.bed:
        sink.add(
            _clip(seg, seconds(walk, rng.uniform(20, 90))),
            "bed-bedroom",
            MessageKind.OCCUPANCY,
            occupied=True,
        )
    if seg.chair and not prev.chair:
        sink.add(
            _clip(seg, seconds(walk, rng.uniform(5, 30))),
            "chair-lounge",
            MessageKind.OCCUPANCY,
            occupied=True,
        )
    if seg.tv and not prev.tv:
        sink.power(_clip(seg, seconds(walk, rng.uniform(20, 120))), "tv", rng.uniform(60, 110))


def _walk(
    sink: Sink, layout: Layout, prev: Segment, seg: Segment, pace: float, rng: random.Random
) -> datetime:
    """Motion along the way from the previous room, and the front door if leaving or coming home."""
    walk = _clip(seg, seconds(seg.start, 5))
    if prev.room == seg.room or seg.activity in (Act.STILL, Act.FALLEN):
        return walk
    if prev.room == OUT:
        walk = _clip(seg, sink.door(walk, "door-front", rng, 6, 15))
    for room in layout.path(prev.room, seg.room):
        walk = _clip(seg, seconds(walk, pace * rng.uniform(0.7, 1.3)))
        sink.motion(walk, room)
    if seg.room == OUT:
        return _clip(seg, sink.door(seconds(walk, rng.uniform(5, 20)), "door-front", rng, 4, 12))
    return _clip(seg, seconds(walk, pace * rng.uniform(0.7, 1.3)))


def _cadence(
    sink: Sink, room: str, t: datetime, end: datetime, lo: float, hi: float, rng: random.Random
) -> None:
    while t < end:
        sink.motion(t, room)
        t = minutes(t, rng.uniform(lo, hi))


def _appliance(sink: Sink, seg: Segment, name: str, on: datetime, watts: float, secs: float) -> None:
    off = seconds(on, secs)
    if off < seconds(seg.end, -5):
        sink.power(on, name, watts)
        sink.power(off, name, 0.0)


def _kitchen(sink: Sink, seg: Segment, t: datetime, profile: Profile, rng: random.Random) -> None:
    """Fridge door, kettle and microwave around a meal, snack or a carer's cooking."""
    kettle_p, micro_p = _MEALS.get(seg.detail, (0.5, 0.2))
    if micro_p is None:
        micro_p = profile.microwave_prob
    fridge = seconds(t, rng.uniform(20, 90))
    if fridge < seconds(seg.end, -45):
        sink.door(fridge, "door-fridge", rng, 8, 40)
    if rng.random() < kettle_p:
        _appliance(
            sink,
            seg,
            "kettle",
            seconds(t, rng.uniform(60, 150)),
            rng.uniform(1850, 2950),
            rng.uniform(100, 220),
        )
    if rng.random() < micro_p:
        _appliance(
            sink,
            seg,
            "microwave",
            seconds(t, rng.uniform(200, 500)),
            rng.uniform(750, 1150),
            rng.uniform(90, 330),
        )


def _flush(sink: Sink, seg: Segment, at: datetime, chance: float, rng: random.Random) -> None:
    if rng.random() < chance and seg.start < at < seg.end:
        sink.add(at, "flush-bathroom", MessageKind.FLUSH)


def _greet(sink: Sink, seg: Segment, t: datetime, rng: random.Random) -> None:
    """Someone at the front door: a carer taps the reader first; the door opens and closes."""
    if seg.detail.startswith("tag:"):
        sink.add(seconds(seg.start, rng.uniform(2, 8)), "nfc-front", MessageKind.TAG, tag_id=seg.detail[4:])
    opened = max(t, seconds(seg.start, rng.uniform(12, 25)))
    if opened < seg.end:
        sink.door(_clip(seg, opened), "door-front", rng, 5, 15)


def _extras(sink: Sink, seg: Segment, t: datetime, profile: Profile, rng: random.Random) -> None:
    """Events other than motion that an activity causes."""
    if seg.activity is Act.MEAL or (seg.activity is Act.CARER and seg.room == "kitchen"):
        _kitchen(sink, seg if seg.activity is Act.MEAL else _as_carer_meal(seg), t, profile, rng)
    elif seg.activity is Act.TOILET:
        _flush(sink, seg, seconds(seg.end, -rng.uniform(20, 60)), 0.92, rng)
    elif seg.activity in (Act.WASH, Act.CARER, Act.BATH_LONG) and seg.room == "bathroom":
        _flush(sink, seg, seconds(t, rng.uniform(60, 180)), 0.45, rng)
    elif seg.activity is Act.GREET:
        _greet(sink, seg, t, rng)
    elif seg.activity is Act.FALLEN:
        sink.add(seg.start, "wrist", MessageKind.FALL, confidence=round(rng.uniform(0.86, 0.99), 2))


def _as_carer_meal(seg: Segment) -> Segment:
    return Segment(seg.start, seg.end, seg.room, Act.MEAL, "carer")


def _sleep(sink: Sink, seg: Segment, t: datetime, profile: Profile, rng: random.Random) -> None:
    """A restless sleeper sets off the bedroom sensor now and then; someone lying awake (not_up) does not."""
    rate = 0.0 if seg.detail == "not_up" else profile.bed_restlessness
    if rate <= 0:
        return
    moment = minutes(t, rng.expovariate(rate / 60))
    while moment < minutes(seg.end, -5):
        sink.motion(moment, seg.room)
        moment = minutes(moment, rng.expovariate(rate / 60))


def _activity(sink: Sink, seg: Segment, t: datetime, profile: Profile, rng: random.Random) -> None:
    if seg.activity is Act.SLEEP:
        _sleep(sink, seg, t, profile, rng)
    elif seg.activity is Act.SIT:
        _cadence(sink, seg.room, t, seg.end, *profile.sit_motion_min, rng)
    elif seg.activity in _CADENCE:
        _cadence(sink, seg.room, t, seg.end, *_CADENCE[seg.activity], rng)
    _extras(sink, seg, t, profile, rng)


def sense(segments: list[Segment], layout: Layout, profile: Profile, rng: random.Random) -> list[Emit]:
    """All readings the home's sensors make of the resident's timeline, in no particular order."""
    sink = Sink(layout)
    if not segments:
        return sink.out
    first = segments[0]
    prev = Segment(first.start, first.start, first.room, Act.CHORES)
    for seg in segments:
        _offs(sink, prev, seg)
        walk = _walk(sink, layout, prev, seg, profile.pace_s, rng)
        _ons(sink, prev, seg, walk, rng)
        _activity(sink, seg, walk, profile, rng)
        prev = seg
    return sink.out
