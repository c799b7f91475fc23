"""The resident's routine, day by day: sleep, toilet, meals, sitting, washing, going out, visitors, carers."""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from simulators.carers import visit_segments
from simulators.layouts import Layout
from simulators.model import VisitRecord
from simulators.profiles import Profile
from simulators.timeline import OUT, Act, LocalClock, Segment, minutes, poisson, sub_rng

STEP_MIN = 5  # blocks move in steps of this many minutes to find a free slot
MIN_FILL_MIN = 3  # gaps shorter than this are absorbed by the segment before


@dataclass(slots=True, frozen=True)
class Part:
    """One piece of a block: minutes, room, activity and pad/plug state."""

    mins: float
    room: str
    act: Act
    detail: str = ""
    chair: bool = False
    tv: bool = False


@dataclass(slots=True, frozen=True)
class Block:
    """Segments placed together; higher priority is placed first and may move up to max_shift_min."""

    priority: int
    segments: tuple[Segment, ...]
    max_shift_min: float = 0.0
    guard_min: float = 0.0  # keep this far from other blocks (e.g. be home well before a carer comes)

    @property
    def start(self) -> datetime:
        """When the first segment starts."""
        return self.segments[0].start

    @property
    def end(self) -> datetime:
        """When the last segment ends."""
        return self.segments[-1].end


@dataclass(slots=True, frozen=True)
class DayFrame:
    """One day's anchors: when the resident gets up and goes to bed, and the carer visits that happen."""

    day: date
    wake: datetime
    bed: datetime
    visits: tuple[VisitRecord, ...]
    woken_by_carer: bool


@dataclass(slots=True, frozen=True)
class _FillState:
    last_toilet: datetime
    nap_decided: bool


def _chain(start: datetime, parts: list[Part]) -> tuple[Segment, ...]:
    out: list[Segment] = []
    for part in parts:
        begin = out[-1].end if out else start
        end = minutes(begin, part.mins)
        out.append(Segment(begin, end, part.room, part.act, part.detail, chair=part.chair, tv=part.tv))
    return tuple(out)


def _frame(
    day: date, visits: list[VisitRecord], profile: Profile, clock: LocalClock, rng: random.Random
) -> DayFrame:
    """Wake and bed times, moved when a carer comes before the resident is up or after bedtime."""
    wake = clock.at(day, profile.pick(profile.wake, day).sample(rng))
    bed = clock.at(day, profile.pick(profile.bed, day).sample(rng))
    came = [v for v in visits if v.actual_start is not None and v.actual_end is not None]
    woken = False
    starts = [v.actual_start for v in came if v.actual_start is not None]
    ends = [v.actual_end for v in came if v.actual_end is not None]
    if starts and starts[0] < minutes(wake, 10):
        wake, woken = starts[0], True  # the carer gets them up
    if ends and ends[-1] > minutes(bed, -15):
        bed = minutes(ends[-1], rng.uniform(10, 40))  # bed after the bedtime call
    return DayFrame(day, wake, bed, tuple(came), woken)


def _routine(frame: DayFrame, profile: Profile, rng: random.Random, evening: bool) -> Block:
    """Toilet, perhaps a wash, then the bedroom: after getting up (morning) or before bed (evening)."""
    wash_p = profile.wash_evening_prob if evening else profile.wash_morning_prob
    parts = [Part(rng.uniform(3, 6), "bathroom", Act.TOILET)]
    if rng.random() < wash_p:
        parts.append(Part(profile.wash_minutes.sample(rng), "bathroom", Act.WASH))
    parts.append(Part(rng.uniform(4, 12), "bedroom", Act.DRESS))
    length = sum(p.mins for p in parts)
    start = minutes(frame.bed, -length) if evening else frame.wake
    return Block(85 if evening else 90, _chain(start, parts))


def _meal(at: datetime, name: str, prep: float, eat: float, profile: Profile, rng: random.Random) -> Block:
    """Preparing food in the kitchen, then eating at the kitchen table or in the lounge chair."""
    if rng.random() < 0.5:
        eating = Part(eat, "kitchen", Act.EAT)
    else:
        eating = Part(eat, "lounge", Act.EAT, chair=True, tv=rng.random() < profile.tv_prob)
    priority = {"breakfast": 65, "dinner": 60}.get(name, 50)
    return Block(priority, _chain(at, [Part(prep, "kitchen", Act.MEAL, name), eating]), 45)


def _meals(frame: DayFrame, profile: Profile, clock: LocalClock, rng: random.Random) -> list[Block]:
    day = frame.day
    breakfast = max(clock.at(day, profile.breakfast.sample(rng)), minutes(frame.wake, rng.uniform(20, 45)))
    blocks = [_meal(breakfast, "breakfast", rng.uniform(8, 18), rng.uniform(10, 25), profile, rng)]
    for name, spread, prep in (("lunch", profile.lunch, (6, 15)), ("dinner", profile.dinner, (15, 35))):
        at, skip = clock.at(day, spread.sample(rng)), rng.random() < profile.meal_skip_prob
        block = _meal(at, name, rng.uniform(*prep), rng.uniform(12, 30), profile, rng)
        if not skip:
            blocks.append(block)
    return blocks


def _outings(frame: DayFrame, profile: Profile, clock: LocalClock, rng: random.Random) -> list[Block]:
    """Maybe one trip out (shops, club, a walk), fetching a coat from the bedroom first."""
    go = rng.random() < profile.pick_rate(profile.out_prob, frame.day)
    at = clock.at(frame.day, profile.out_start.sample(rng))
    parts = [
        Part(rng.uniform(2, 5), "bedroom", Act.DRESS),
        Part(profile.out_minutes.sample(rng), OUT, Act.OUT),
    ]
    return [Block(70, _chain(at, parts), 90, 15)] if go else []


def _visitors(frame: DayFrame, profile: Profile, clock: LocalClock, rng: random.Random) -> list[Block]:
    """Family or friends: let in at the door, tea made in the kitchen, let out again."""
    blocks = []
    for _ in range(min(2, poisson(rng, profile.pick_rate(profile.visitor_rate, frame.day)))):
        at = clock.at(frame.day, rng.uniform(630, 1050))
        stay = profile.visitor_minutes.sample(rng)
        parts = [
            Part(rng.uniform(1, 2), "hallway", Act.GREET, "visitor"),
            Part(stay * 0.4, "lounge", Act.VISITOR),
            Part(rng.uniform(4, 8), "kitchen", Act.MEAL, "tea"),
            Part(stay * 0.6, "lounge", Act.VISITOR),
            Part(rng.uniform(1, 2), "hallway", Act.GREET, "visitor"),
        ]
        blocks.append(Block(40, _chain(at, parts), 60, 5))
    return blocks


def _snacks(frame: DayFrame, profile: Profile, rng: random.Random) -> list[Block]:
    blocks = []
    span = (frame.bed - frame.wake).total_seconds() / 60 - 180
    for _ in range(poisson(rng, profile.snack_rate) if span > 0 else 0):
        at = minutes(frame.wake, 120 + rng.uniform(0, span))
        blocks.append(Block(20, _chain(at, [Part(rng.uniform(3, 8), "kitchen", Act.MEAL, "snack")]), 30))
    return blocks


def _clash(a: Block, b: Block) -> bool:
    guard = timedelta(minutes=max(a.guard_min, b.guard_min))
    return a.start - guard < b.end and b.start < a.end + guard


def _shift(block: Block, mins: float) -> Block:
    delta = timedelta(minutes=mins)
    moved = tuple(replace(s, start=s.start + delta, end=s.end + delta) for s in block.segments)
    return replace(block, segments=moved)


def _fit(block: Block, placed: list[Block], lo: datetime, hi: datetime) -> Block | None:
    """The block moved as little as possible to fit in [lo, hi] without clashing; None if it cannot."""
    for step in range(int(block.max_shift_min // STEP_MIN) + 1):
        for sign in (1, -1) if step else (1,):
            moved = _shift(block, sign * step * STEP_MIN)
            if lo <= moved.start and moved.end <= hi and not any(_clash(moved, p) for p in placed):
                return moved
    return None


def _place(fixed: list[Block], blocks: list[Block], lo: datetime, hi: datetime) -> list[Segment]:
    placed = list(fixed)  # carer visits happen when they happen
    for block in sorted(blocks, key=lambda b: -b.priority):
        fitted = _fit(block, placed, lo, hi)
        if fitted is not None:
            placed.append(fitted)
    return sorted((s for b in placed for s in b.segments), key=lambda s: s.start)


def _filler(t: datetime, end: datetime, state: _FillState, ctx: _Ctx) -> tuple[Segment, _FillState]:
    """What the resident does in free time: toilet when due, a nap after lunch, sitting or pottering."""
    profile, rng = ctx.profile, ctx.rng
    clock_min = ctx.clock.minutes(t)
    due = t - state.last_toilet > timedelta(minutes=profile.day_toilet_every_min * rng.uniform(0.7, 1.3))
    napping = 780 <= clock_min <= 990 and not state.nap_decided
    if due:
        seg, state = (
            Segment(t, minutes(t, rng.uniform(3, 7)), "bathroom", Act.TOILET),
            replace(state, last_toilet=t),
        )
    elif napping and rng.random() < profile.nap_prob:
        seg = Segment(
            t, minutes(t, rng.uniform(25, 70)), "lounge", Act.NAP, chair=True, tv=rng.random() < 0.4
        )
    elif rng.random() < 0.65 and end - t > timedelta(minutes=10):
        tv = rng.random() < profile.tv_prob + (0.25 if clock_min >= 1080 else 0.0)
        seg = Segment(t, minutes(t, profile.sit_minutes.sample(rng)), "lounge", Act.SIT, chair=True, tv=tv)
    else:
        rooms = [r for r in ctx.layout.room_names() if r not in ("bathroom", "hallway", "landing")]
        room = rng.choice([*rooms, "kitchen", "lounge"])
        seg = Segment(t, minutes(t, rng.uniform(8, 35)), room, Act.CHORES)
    state = replace(state, nap_decided=state.nap_decided or napping)
    # Cut to the gap, and let the last piece take up a remainder too short to do anything in.
    if (end - seg.end).total_seconds() / 60 < MIN_FILL_MIN:
        seg = replace(seg, end=end)
    return seg, state


@dataclass(slots=True, frozen=True)
class _Ctx:
    profile: Profile
    layout: Layout
    clock: LocalClock
    rng: random.Random


def _fill(start: datetime, end: datetime, state: _FillState, ctx: _Ctx) -> tuple[list[Segment], _FillState]:
    out: list[Segment] = []
    t = start
    while t < end:
        seg, state = _filler(t, end, state, ctx)
        out.append(seg)
        t = seg.end
    return out, state


def _night(start: datetime, end: datetime, ctx: _Ctx) -> list[Segment]:
    """Asleep in bed, broken by toilet visits and, for some, restless trips to the kitchen or lounge."""
    rng, profile = ctx.rng, ctx.profile
    span = (end - start).total_seconds() / 60
    trips: list[tuple[float, Part]] = []
    for _ in range(poisson(rng, profile.night_toilet_rate)):
        trips.append((rng.uniform(20, span - 15), Part(rng.uniform(3, 8), "bathroom", Act.TOILET)))
    for _ in range(poisson(rng, profile.night_restless_rate)):
        choice = rng.choice(
            [
                Part(rng.uniform(5, 15), "kitchen", Act.MEAL, "night"),
                Part(rng.uniform(10, 40), "lounge", Act.SIT, chair=True),
                Part(rng.uniform(2, 6), "hallway", Act.WANDER),
            ]
        )
        trips.append((rng.uniform(20, span - 45), choice))
    out: list[Segment] = []
    t = start
    for offset, part in sorted(trips, key=lambda trip: trip[0]):
        begin = minutes(start, offset)
        if begin - t < timedelta(minutes=10) or minutes(begin, part.mins + 10) > end:
            continue
        out.append(Segment(t, begin, "bedroom", Act.SLEEP, bed=True))
        out.extend(_chain(begin, [part]))
        t = out[-1].end
    out.append(Segment(t, end, "bedroom", Act.SLEEP, bed=True))
    return out


def _day(frame: DayFrame, ctx: _Ctx, seed: int) -> list[Segment]:
    """The waking day: fixed carer visits, routines, meals, outings and visitors, free time in between."""
    rng = ctx.rng
    carer_rng = sub_rng(seed, "carer-tasks", frame.day.isoformat())
    fixed = [
        Block(100, tuple(visit_segments(v, ctx.profile, ctx.layout, carer_rng)), 0, 10) for v in frame.visits
    ]
    blocks = [] if frame.woken_by_carer else [_routine(frame, ctx.profile, rng, evening=False)]
    blocks.append(_routine(frame, ctx.profile, rng, evening=True))
    blocks += _meals(frame, ctx.profile, ctx.clock, rng)
    blocks += _outings(frame, ctx.profile, ctx.clock, rng)
    blocks += _visitors(frame, ctx.profile, ctx.clock, rng)
    blocks += _snacks(frame, ctx.profile, rng)
    out: list[Segment] = []
    state, t = _FillState(frame.wake, False), frame.wake
    for seg in _place(fixed, blocks, frame.wake, frame.bed):
        if seg.start > t:
            filled, state = _fill(t, seg.start, state, ctx)
            out += filled
        out.append(seg)
        t = seg.end
    if t < frame.bed:
        out += _fill(t, frame.bed, state, ctx)[0]
    return out


def plan_resident(
    *,
    profile: Profile,
    layout: Layout,
    clock: LocalClock,
    start: date,
    days: int,
    visits: list[VisitRecord],
    seed: int,
) -> list[Segment]:
    """The resident's whole timeline from local midnight of `start` for `days` days."""
    sim_end = clock.at(start, days * 1440)
    segments: list[Segment] = []
    night_from = clock.at(start, 0)
    for index in range(days):
        day = start + timedelta(days=index)
        ctx = _Ctx(profile, layout, clock, sub_rng(seed, "day", index))
        today = [v for v in visits if clock.local(v.planned_start).date() == day]
        frame = _frame(day, today, profile, clock, ctx.rng)
        segments += _night(night_from, frame.wake, ctx)
        segments += _day(frame, ctx, seed)
        night_from = frame.bed
    if night_from < sim_end:
        segments += _night(night_from, sim_end, _Ctx(profile, layout, clock, sub_rng(seed, "day", days)))
    return [replace(s, end=min(s.end, sim_end)) for s in segments if s.start < sim_end]
