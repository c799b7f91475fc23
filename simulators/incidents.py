"""Incidents, injected from a scenario or at random, that reshape the home's timeline, with their labels."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from devices.contract import MessageKind
from simulators.layouts import Layout
from simulators.model import INCIDENT_KINDS, Incident, ScenarioItem, VisitRecord
from simulators.profiles import Profile
from simulators.timeline import (
    Act,
    Emit,
    LocalClock,
    Segment,
    map_window,
    minutes,
    overwrite,
    poisson,
    seconds,
    segment_at,
    sub_rng,
)

STEP = 5  # minutes between tries when an incident's time is given
Busy = list[tuple[datetime, datetime]]
Accept = Callable[[Segment, datetime], bool]

# Kinds that reshape the resident's timeline are applied first, then events on top, then device faults.
_PHASE = {"fall": 0, "inactivity": 0, "not_up": 0, "night_wandering": 0, "bathroom_long": 0}
_PHASE |= {"alarm_pressed": 1, "fall_cancelled": 1, "water_leak": 1, "smoke": 1}
_AWAKE = frozenset({Act.SIT, Act.CHORES, Act.EAT, Act.MEAL, Act.DRESS, Act.WASH, Act.TOILET})
# Devices that may drop out at random: not the wearables, front door or reader, so that the other
# labels stay observable. Batteries run low at random on the other battery devices (smoke alarms, leak,
# flush and door sensors), so that a random low battery is never hidden by a random outage. A scenario
# may still pick any device for either.
_OFFLINE_TYPES = frozenset(
    {"motion_sensor", "bed_sensor", "chair_sensor", "temperature_sensor", "smart_plug"}
)
_LOW_BATTERY_TYPES = frozenset({"door_contact", "water_sensor", "smoke_detector", "flush_sensor"})


@dataclass(slots=True, frozen=True)
class IncidentPlan:
    """An incident to make happen: kind, day index and, if fixed, local minute, length and device."""

    kind: str
    day: int
    at_min: float | None = None
    duration_min: float | None = None
    device_key: str | None = None


@dataclass(slots=True, frozen=True)
class Faults:
    """Faults for the environment and device models: heating off, devices offline, batteries low."""

    heating_off: tuple[tuple[datetime, datetime], ...] = ()
    offline: tuple[tuple[str, datetime, datetime], ...] = ()
    low_battery: tuple[tuple[str, datetime, datetime], ...] = ()


@dataclass(slots=True, frozen=True)
class Effect:
    """What one incident did: a new timeline, its label, extra readings and faults."""

    segments: list[Segment] | None = None
    incident: Incident | None = None
    emits: tuple[Emit, ...] = ()
    faults: Faults = Faults()


@dataclass(slots=True, frozen=True)
class Ctx:
    """What every incident handler needs to know about the home and the period."""

    home: str
    profile: Profile
    layout: Layout
    clock: LocalClock
    start: date
    days: int
    visits: tuple[VisitRecord, ...]

    @property
    def sim_end(self) -> datetime:
        """End of the simulated period."""
        return self.clock.at(self.start, self.days * 1440)

    def day(self, index: int) -> date:
        """Date of day `index`."""
        return self.start + timedelta(days=index)


def plan_incidents(
    *, scenario: list[ScenarioItem] | None, incident_rate: float, days: int, profile: Profile, seed: int
) -> list[IncidentPlan]:
    """The scenario's incidents, random ones at `incident_rate` per day, and the profile's night wandering."""
    plans = []
    for item in scenario or []:
        if item.kind not in INCIDENT_KINDS:
            raise ValueError(f"unknown incident kind {item.kind!r}; known: {', '.join(INCIDENT_KINDS)}")
        if not 0 <= item.day < days:
            raise ValueError(f"incident day {item.day} is outside the {days} simulated days")
        at_min = None if item.at is None else item.at.hour * 60 + item.at.minute
        plans.append(IncidentPlan(item.kind, item.day, at_min, item.duration_min, item.device_key))
    rng = sub_rng(seed, "incidents")
    for index in range(days):
        kinds = [rng.choice(INCIDENT_KINDS) for _ in range(poisson(rng, incident_rate))]
        plans += [IncidentPlan(kind, index) for kind in kinds]
        if rng.random() < profile.night_door_prob:
            plans.append(IncidentPlan("night_wandering", index))
    return plans


def forced_misses(
    plans: list[IncidentPlan], profile: Profile, start: date, days: int
) -> frozenset[tuple[int, str]]:
    """(day, slot) per missed_visit plan: the visit nearest its time on its day, else the nearest day's."""
    out = set()
    for plan in plans:
        if plan.kind != "missed_visit":
            continue
        nearest = sorted(range(days), key=lambda index: (abs(index - plan.day), index < plan.day))
        for index in nearest:
            slots = [s for s in profile.carers if (start + timedelta(days=index)).weekday() in s.weekdays]
            if slots:
                wanted = plan.at_min if plan.at_min is not None else slots[0].start
                out.add((index, min(slots, key=lambda s: abs(s.start - wanted)).name))
                break
    return frozenset(out)


def _busy(busy: list[tuple[datetime, datetime]], start: datetime, end: datetime) -> bool:
    return any(start < b_end and b_start < end for b_start, b_end in busy)


def _until_visit(ctx: Ctx, start: datetime, end: datetime) -> datetime:
    """A carer coming in ends the incident: the end, or the first arrival inside the window."""
    arrivals = [
        v.actual_start for v in ctx.visits if v.actual_start is not None and start < v.actual_start < end
    ]
    return min([end, ctx.sim_end, *arrivals])


def _window(
    segs: list[Segment],
    ctx: Ctx,
    plan: IncidentPlan,
    rng: random.Random,
    spec: tuple[float, float, float, float],
    ok: Accept,
    busy: Busy,
) -> tuple[datetime, datetime] | None:
    """A start (the plan's local time or the first good moment after it, else random in [lo, hi]) and end.

    spec is (lo minute, hi minute, wanted length, least length) in minutes; `ok` gets the segment going on
    at the start and the window's end, and says whether the moment will do.
    """
    lo, hi, length, least = spec
    if plan.at_min is not None:
        tries = [plan.at_min + STEP * k for k in range(int(max(hi - plan.at_min, 240) // STEP) + 1)]
    else:
        tries = [rng.uniform(lo, hi) for _ in range(60)]
    for minute in tries:
        start = ctx.clock.at(ctx.day(plan.day), minute)
        seg = segment_at(segs, start)
        end = _until_visit(ctx, start, minutes(start, length))
        if seg is None or not ok(seg, end):
            continue
        if end - start >= timedelta(minutes=least) and not _busy(busy, start, end):
            return start, end
    return None


def _awake(seg: Segment, _end: datetime) -> bool:
    return seg.activity in _AWAKE


def _label(
    ctx: Ctx, kind: str, start: datetime, end: datetime, key: str | None = None, detail: str = ""
) -> Incident:
    return Incident(ctx.home, kind, start, end, key, detail)


def _fall(segs: list[Segment], ctx: Ctx, plan: IncidentPlan, rng: random.Random, busy: Busy) -> Effect:
    """A hard fall: the wrist detector fires, then nothing moves until a carer or responder comes in."""
    length = plan.duration_min or rng.uniform(90, 300)
    found = _window(segs, ctx, plan, rng, (480, 1260, length, 30), _awake, busy)
    if found is None:
        return Effect()
    start, end = found
    where = segment_at(segs, start)
    assert where is not None
    new = overwrite(segs, start, end, [Segment(start, end, where.room, Act.FALLEN, tv=where.tv)])
    rescue_end = _until_visit(ctx, end, minutes(end, 32))
    if rescue_end - end > timedelta(minutes=5) and not any(v.actual_start == end for v in ctx.visits):
        help_in = Segment(end, minutes(end, 2), "hallway", Act.GREET, "responder")
        sat = Segment(help_in.end, rescue_end, "lounge", Act.SIT, "recover", chair=True)
        new = overwrite(new, end, rescue_end, [help_in, sat])
    return Effect(new, _label(ctx, "fall", start, end, "wrist", where.room))


def _inactivity(segs: list[Segment], ctx: Ctx, plan: IncidentPlan, rng: random.Random, busy: Busy) -> Effect:
    """Unwell in the chair (or wherever they were): at home in the day, and no movement for hours."""
    length = plan.duration_min or rng.uniform(150, 300)
    ok = {Act.SIT, Act.CHORES, Act.EAT, Act.NAP}
    found = _window(segs, ctx, plan, rng, (570, 900, length, 90), lambda s, _: s.activity in ok, busy)
    if found is None:
        return Effect()
    start, end = found
    where = segment_at(segs, start)
    assert where is not None
    still = Segment(start, end, where.room, Act.STILL, chair=where.chair, tv=where.tv)
    return Effect(
        overwrite(segs, start, end, [still]), _label(ctx, "inactivity", start, end, detail=where.room)
    )


def _got_up(segs: list[Segment], after: datetime) -> datetime | None:
    """The first time after `after` the resident leaves bed and does not return within the hour."""
    for index, seg in enumerate(segs):
        if seg.start < after or seg.activity is Act.SLEEP:
            continue
        if not _back_to_bed(segs, index):
            return seg.start
    return None


def _back_to_bed(segs: list[Segment], index: int) -> bool:
    """True if the resident is back asleep within the hour after segment `index` starts."""
    limit = minutes(segs[index].start, 60)
    for seg in segs[index:]:
        if seg.start >= limit:
            return False
        if seg.activity is Act.SLEEP:
            return True
    return False


def _not_up(segs: list[Segment], ctx: Ctx, plan: IncidentPlan, rng: random.Random, busy: Busy) -> Effect:
    """Stays in bed hours past the usual time; a carer who comes in finds them still in bed."""
    day = ctx.day(plan.day)
    usual = ctx.clock.at(day, ctx.profile.pick(ctx.profile.wake, day).mean)
    woke = _got_up(segs, ctx.clock.at(day, 240))
    if woke is None:
        return Effect()
    late = plan.duration_min or rng.uniform(120, 240)
    get_up = min(minutes(max(woke, usual), late), ctx.sim_end)
    begin = min(woke, usual)
    if _busy(busy, begin, get_up) or get_up - usual < timedelta(minutes=60):
        return Effect()

    def in_bed(seg: Segment) -> Segment:
        """Still in bed; a carer who comes in moves about, but the bed stays occupied."""
        if seg.activity in (Act.CARER, Act.GREET):
            return replace(seg, bed=True, chair=False, tv=False)
        return Segment(seg.start, seg.end, "bedroom", Act.SLEEP, "not_up", bed=True)

    return Effect(map_window(segs, begin, get_up, in_bed), _label(ctx, "not_up", usual, get_up))


def _night_wandering(
    segs: list[Segment], ctx: Ctx, plan: IncidentPlan, rng: random.Random, busy: Busy
) -> Effect:
    """Up in the night, to the front door: opens it and stands there, or goes out for a few minutes."""
    parts = [(rng.uniform(2, 4), "hallway", Act.WANDER, "")]
    if rng.random() < 0.65:
        parts.append((rng.uniform(3, 20), "out", Act.OUT, "night"))
    else:
        parts.append((rng.uniform(1, 3), "hallway", Act.GREET, "night"))
    parts.append((rng.uniform(1, 3), "hallway", Act.WANDER, ""))
    total = sum(p[0] for p in parts)
    spec = (30, 270, total + 10, total + 10)
    found = _window(segs, ctx, plan, rng, spec, lambda s, end: s.activity is Act.SLEEP and s.end >= end, busy)
    if found is None:
        return Effect()
    start = found[0]
    chain: list[Segment] = []
    for mins, room, act, detail in parts:
        begin = chain[-1].end if chain else start
        chain.append(Segment(begin, minutes(begin, mins), room, act, detail))
    end = chain[-1].end
    return Effect(overwrite(segs, start, end, chain), _label(ctx, "night_wandering", start, end))


def _bathroom_long(
    segs: list[Segment], ctx: Ctx, plan: IncidentPlan, rng: random.Random, busy: Busy
) -> Effect:
    """In the bathroom for well over an hour (unwell, or unable to get up)."""
    length = plan.duration_min or rng.uniform(70, 150)
    found = _window(segs, ctx, plan, rng, (540, 1200, length, 61), _awake, busy)
    if found is None:
        return Effect()
    start, end = found
    bath = Segment(start, end, "bathroom", Act.BATH_LONG)
    return Effect(overwrite(segs, start, end, [bath]), _label(ctx, "bathroom_long", start, end))


def _point(segs: list[Segment], ctx: Ctx, plan: IncidentPlan, rng: random.Random, busy: Busy) -> Effect:
    """A pendant alarm press, or a fall the wearer cancels at once (and carries on)."""
    found = _window(segs, ctx, plan, rng, (420, 1320, 1, 1), _awake, busy)
    if found is None:
        return Effect()
    start = found[0]
    if plan.kind == "alarm_pressed":
        press = Emit(start, "pendant", MessageKind.ALARM, {"button": "pendant"})
        return Effect(incident=_label(ctx, "alarm_pressed", start, start, "pendant"), emits=(press,))
    cancel = seconds(start, rng.uniform(8, 40))
    fall = Emit(start, "wrist", MessageKind.FALL, {"confidence": round(rng.uniform(0.55, 0.85), 2)})
    undo = Emit(cancel, "wrist", MessageKind.ALARM_CANCEL, {})
    return Effect(incident=_label(ctx, "fall_cancelled", start, cancel, "wrist"), emits=(fall, undo))


def _hazard(segs: list[Segment], ctx: Ctx, plan: IncidentPlan, rng: random.Random, busy: Busy) -> Effect:
    """A water leak (any time) or a smoke alarm (while cooking, if possible)."""
    water = plan.kind == "water_leak"
    kind, field = (MessageKind.WATER_LEAK, "leak") if water else (MessageKind.SMOKE, "alarm")
    keys = ctx.layout.keys_of("water_sensor" if water else "smoke_detector")
    key = plan.device_key or ("smoke-kitchen" if "smoke-kitchen" in keys else rng.choice(keys))
    length = plan.duration_min or (rng.uniform(20, 240) if water else rng.uniform(2, 12))
    spec = (0.0, 1439.0, 1.0, 1.0) if water else (420.0, 1260.0, 1.0, 1.0)
    found = _window(segs, ctx, plan, rng, spec, lambda s, _: water or s.activity is Act.MEAL, [])
    found = found or _window(segs, ctx, plan, rng, (420, 1260, 1, 1), _awake, [])
    if found is None:
        return Effect()
    start = minutes(found[0], 0 if water else rng.uniform(1, 4))
    end = min(minutes(start, length), ctx.sim_end)
    emits = (Emit(start, key, kind, {field: True}), Emit(end, key, kind, {field: False}))
    return Effect(incident=_label(ctx, plan.kind, start, end, key), emits=emits)


def _fault(segs: list[Segment], ctx: Ctx, plan: IncidentPlan, rng: random.Random, busy: Busy) -> Effect:
    """Heating failure, a device dropping off the network, or a battery running low."""
    # A heating failure is set to start in the afternoon or evening, so that the night makes it cold.
    lo, hi = (900, 1320) if plan.kind == "cold_home" else (0, 1440)
    minute = plan.at_min if plan.at_min is not None else rng.uniform(lo, hi)
    start = ctx.clock.at(ctx.day(plan.day), minute)
    hours = {"cold_home": (10, 30), "device_offline": (3, 36), "low_battery": (12, 48)}[plan.kind]
    end = min(minutes(start, plan.duration_min or rng.uniform(*hours) * 60), ctx.sim_end)
    if plan.kind == "cold_home":
        return Effect(faults=Faults(heating_off=((start, end),)))
    types = _OFFLINE_TYPES if plan.kind == "device_offline" else _LOW_BATTERY_TYPES
    pool = [d.key for d in ctx.layout.devices if d.type in types]
    key = plan.device_key or rng.choice(pool)
    label = _label(ctx, plan.kind, start, end, key)
    if plan.kind == "device_offline":
        return Effect(incident=label, faults=Faults(offline=((key, start, end),)))
    return Effect(incident=label, faults=Faults(low_battery=((key, start, end),)))


Handler = Callable[[list[Segment], Ctx, IncidentPlan, random.Random, Busy], Effect]
_HANDLERS: dict[str, Handler] = {
    "fall": _fall,
    "inactivity": _inactivity,
    "not_up": _not_up,
    "night_wandering": _night_wandering,
    "bathroom_long": _bathroom_long,
    "alarm_pressed": _point,
    "fall_cancelled": _point,
    "water_leak": _hazard,
    "smoke": _hazard,
    "cold_home": _fault,
    "device_offline": _fault,
    "low_battery": _fault,
}


def apply_incidents(
    plans: list[IncidentPlan], segments: list[Segment], ctx: Ctx, seed: int
) -> tuple[list[Segment], list[Incident], list[Emit], Faults]:
    """Make the planned incidents happen: the reshaped timeline, labels, extra readings and faults."""
    labels: list[Incident] = []
    emits: list[Emit] = []
    faults = Faults()
    busy: Busy = []
    order = sorted(range(len(plans)), key=lambda i: (_PHASE.get(plans[i].kind, 2), plans[i].day, i))
    for index in order:
        plan = plans[index]
        if plan.kind == "missed_visit":
            continue  # made to happen in the carer schedule; labelled there
        rng = sub_rng(seed, "incident", index, plan.kind, plan.day)
        effect = _HANDLERS[plan.kind](segments, ctx, plan, rng, busy)
        segments = effect.segments if effect.segments is not None else segments
        if effect.incident is not None:
            labels.append(effect.incident)
            if _PHASE.get(plan.kind, 2) < 2:
                busy.append((minutes(effect.incident.start, -10), minutes(effect.incident.end, 10)))
        emits.extend(effect.emits)
        faults = Faults(
            faults.heating_off + effect.faults.heating_off,
            faults.offline + effect.faults.offline,
            faults.low_battery + effect.faults.low_battery,
        )
    return segments, labels, emits, faults
