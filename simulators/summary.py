"""Daily summaries of a simulated home, computed only from its device messages, as the backend sees them."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from devices.contract import MessageKind
from simulators.home import simulate_home
from simulators.layouts import get_layout
from simulators.model import HomeStream, SimEvent
from simulators.profiles import get_profile

GET_UP_EMPTY = timedelta(minutes=90)  # out of bed for good: the bed then stays empty this long
BED_WINDOW = timedelta(hours=2)  # in bed for the night: occupied most of the next two hours
VISIT_GAP = timedelta(minutes=10)  # bathroom motion this far apart is a separate visit
MEAL_GAP = timedelta(minutes=20)
MEAL_MIN = timedelta(minutes=8)
OUT_MIN = timedelta(minutes=15)
CLOCK_MARGIN = timedelta(minutes=5)


@dataclass(slots=True, frozen=True)
class DaySummary:
    """One local day as the sensors tell it."""

    day: date
    wake: time | None
    bed: time | None
    night_toilet: int  # bathroom visits between the previous bedtime and this wake
    meals: int
    minutes_out: int
    carer_visits: int
    night_door: int  # front door openings between midnight and 05:00


@dataclass(slots=True, frozen=True)
class _View:
    """The stream's messages (duplicates dropped, by device time) grouped the way the summary needs."""

    tz: ZoneInfo
    bed: list[tuple[datetime, bool]]
    chair: list[tuple[datetime, bool]]
    motion: list[tuple[datetime, str]]
    kitchen: list[datetime]  # kitchen motion
    cooking: list[datetime]  # fridge opened, kettle or microwave switched on
    door: list[datetime]  # front door opened
    tags: list[tuple[datetime, str]]


def _view(stream: HomeStream) -> _View:
    rooms = {d.key: d.room for d in get_layout(stream.layout).devices}
    types = {d.key: d.type for d in get_layout(stream.layout).devices}
    seen: set[tuple[str, int]] = set()
    events: list[SimEvent] = []
    for event in stream.events:
        if (event.device_key, event.seq) not in seen:  # the backend drops repeated seqs
            seen.add((event.device_key, event.seq))
            events.append(event)
    events.sort(key=lambda e: e.at)
    groups: dict[str, list[tuple[datetime, object]]] = defaultdict(list)
    for e in events:
        kind, key = e.kind, e.device_key
        if kind is MessageKind.OCCUPANCY:
            groups[types[key]].append((e.at, e.fields["occupied"]))
        elif kind is MessageKind.MOTION:
            groups["motion"].append((e.at, rooms[key]))
        elif (
            kind is MessageKind.POWER and e.fields["watts"] > 100 and e.fields.get("appliance") != "tv"
        ) or (kind is MessageKind.CONTACT and rooms[key] == "kitchen" and e.fields["open"]):
            groups["cooking"].append((e.at, True))
        elif kind is MessageKind.CONTACT and key == "door-front" and e.fields["open"]:
            groups["door"].append((e.at, True))
        elif kind is MessageKind.TAG:
            groups["tags"].append((e.at, e.fields["tag_id"]))
    motion = [(t, str(room)) for t, room in groups["motion"]]
    return _View(
        ZoneInfo(stream.tz),
        [(t, bool(v)) for t, v in groups["bed_sensor"]],
        [(t, bool(v)) for t, v in groups["chair_sensor"]],
        motion,
        [t for t, room in motion if room == "kitchen"],
        [t for t, _ in groups["cooking"]],
        [t for t, _ in groups["door"]],
        [(t, str(tag)) for t, tag in groups["tags"]],
    )


def _occupied_within(changes: list[tuple[datetime, bool]], start: datetime, span: timedelta) -> timedelta:
    """How long the pad was occupied in [start, start + span), given it became occupied at start."""
    total, end = timedelta(0), start + span
    since: datetime | None = start
    for moment, occupied in changes:
        if moment <= start or moment >= end:
            continue
        if not occupied and since is not None:
            total, since = total + (moment - since), None
        elif occupied and since is None:
            since = moment
    return total + (end - since if since is not None else timedelta(0))


def _wake(view: _View, day_start: datetime) -> datetime | None:
    """First time after 04:00 the resident leaves the bed and it then stays empty for a good while."""
    lo, hi = day_start + timedelta(hours=4), day_start + timedelta(hours=14)
    for index, (moment, occupied) in enumerate(view.bed):
        if occupied or not lo <= moment < hi:
            continue
        back = next((t for t, occ in view.bed[index + 1 :] if occ), None)
        if back is None or back - moment >= GET_UP_EMPTY:
            return moment
    return None


def _bedtime(view: _View, day_start: datetime) -> datetime | None:
    """First time after 18:00 the resident gets into bed and stays there most of the next two hours."""
    lo, hi = day_start + timedelta(hours=18), day_start + timedelta(hours=28)
    for moment, occupied in view.bed:
        if (
            occupied
            and lo <= moment < hi
            and _occupied_within(view.bed, moment, BED_WINDOW) >= BED_WINDOW * 0.6
        ):
            return moment
    return None


def _clusters(moments: list[datetime], gap: timedelta) -> list[tuple[datetime, datetime]]:
    out: list[tuple[datetime, datetime]] = []
    for moment in sorted(moments):
        if out and moment - out[-1][1] <= gap:
            out[-1] = (out[-1][0], moment)
        else:
            out.append((moment, moment))
    return out


def _meals(view: _View, start: datetime, end: datetime) -> int:
    """Kitchen sessions of some length in which the fridge, kettle or microwave was used."""
    inside = [t for t in view.kitchen + view.cooking if start <= t < end]
    cooking = [t for t in view.cooking if start <= t < end]
    return sum(
        1
        for first, last in _clusters(inside, MEAL_GAP)
        if last - first >= MEAL_MIN and any(first <= t <= last for t in cooking)
    )


def _minutes_out(view: _View, start: datetime, end: datetime) -> int:
    """Time between a front door opening and the next, with no motion and nobody on the bed or chair."""
    total = 0.0
    for left, came in pairwise(view.door):
        if not start <= left < end or came - left < OUT_MIN:
            continue
        # Margins, because a motion sensor's clock may be minutes off the door's.
        quiet = not any(left + CLOCK_MARGIN < t < came - CLOCK_MARGIN for t, _ in view.motion)
        if quiet and not _sat_or_lay(view, left, came):
            total += (came - left).total_seconds() / 60
    return round(total)


def _state_at(changes: list[tuple[datetime, bool]], moment: datetime) -> bool:
    state = False
    for t, occupied in changes:
        if t > moment:
            break
        state = occupied
    return state


def _sat_or_lay(view: _View, start: datetime, end: datetime) -> bool:
    return any(
        _state_at(pad, start) or any(start <= t < end and occ for t, occ in pad)
        for pad in (view.bed, view.chair)
    )


def _visits(view: _View, start: datetime, end: datetime) -> int:
    """Carer arrivals: a tag's first tap (the second tap of a pair is the carer leaving)."""
    arrivals = 0
    open_by: dict[str, datetime] = {}
    for moment, tag in view.tags:
        opened = open_by.pop(tag, None)
        if opened is None or moment - opened > timedelta(hours=3):
            open_by[tag] = moment
            arrivals += start <= moment < end
    return arrivals


def _day(view: _View, day: date, prev_bed: datetime | None) -> DaySummary:
    midnight = datetime(day.year, day.month, day.day, tzinfo=view.tz)
    start, end = midnight, midnight + timedelta(days=1)
    wake, bed = _wake(view, midnight), _bedtime(view, midnight)
    night_from = prev_bed or midnight - timedelta(hours=2)
    night_to = wake or midnight + timedelta(hours=7)
    bathroom = [t for t, room in view.motion if room == "bathroom" and night_from <= t < night_to]
    return DaySummary(
        day=day,
        wake=wake.astimezone(view.tz).time().replace(microsecond=0) if wake else None,
        bed=bed.astimezone(view.tz).time().replace(microsecond=0) if bed else None,
        night_toilet=len(_clusters(bathroom, VISIT_GAP)),
        meals=_meals(view, start, end),
        minutes_out=_minutes_out(view, start, end),
        carer_visits=_visits(view, start, end),
        night_door=sum(1 for t in view.door if start <= t < start + timedelta(hours=5)),
    )


def daily_summary(stream: HomeStream) -> list[DaySummary]:
    """One summary per simulated day, from the events alone (duplicates dropped, device times)."""
    view = _view(stream)
    out, prev_bed = [], None
    for index in range(stream.days):
        day = stream.start + timedelta(days=index)
        summary = _day(view, day, prev_bed)
        out.append(summary)
        midnight = datetime(day.year, day.month, day.day, tzinfo=view.tz)
        prev_bed = _bedtime(view, midnight)
    return out


def _hm(value: time | None) -> str:
    return value.strftime("%H:%M") if value else "–"


def _duration(mins: float) -> str:
    return f"{int(mins // 60)} h {int(mins % 60):02d}" if mins >= 60 else f"{int(mins)} min"


def render_markdown(summaries: list[DaySummary]) -> str:
    """A markdown table, one row per day."""
    lines = [
        "| Day | Up | To bed | Night toilet | Meals | Out | Carer visits | Door at night |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for s in summaries:
        out = _duration(s.minutes_out) if s.minutes_out else "–"
        lines.append(
            f"| {s.day:%a %d %b} | {_hm(s.wake)} | {_hm(s.bed)} | {s.night_toilet} | {s.meals} | {out} "
            f"| {s.carer_visits} | {s.night_door or '–'} |"
        )
    return "\n".join(lines) + "\n"


@dataclass(slots=True, frozen=True)
class Averages:
    """A month in a few numbers."""

    wake: float  # minutes after midnight
    wake_sd: float
    bed: float  # minutes after midnight (past 24:00 if after midnight)
    night_toilet: float
    meals: float
    days_out: int
    minutes_out: float  # mean on the days out
    carer_visits: float
    door_nights: int
    weekend_later: float  # minutes later up at weekends than on weekdays


def _wake_minutes(summaries: list[DaySummary]) -> list[int]:
    return [t.hour * 60 + t.minute for s in summaries if (t := s.wake)] or [0]


def averages(summaries: list[DaySummary]) -> Averages:
    """Means over the days that have a value."""
    wakes = _wake_minutes(summaries)
    weekend = statistics.fmean(_wake_minutes([s for s in summaries if s.day.weekday() >= 5]))
    weekday = statistics.fmean(_wake_minutes([s for s in summaries if s.day.weekday() < 5]))
    beds = [t.hour * 60 + t.minute + (1440 if t.hour < 12 else 0) for s in summaries if (t := s.bed)] or [0]
    out = [s.minutes_out for s in summaries if s.minutes_out]
    return Averages(
        wake=statistics.fmean(wakes),
        wake_sd=statistics.pstdev(wakes),
        bed=statistics.fmean(beds),
        night_toilet=statistics.fmean(s.night_toilet for s in summaries),
        meals=statistics.fmean(s.meals for s in summaries),
        days_out=len(out),
        minutes_out=statistics.fmean(out) if out else 0.0,
        carer_visits=statistics.fmean(s.carer_visits for s in summaries),
        door_nights=sum(1 for s in summaries if s.night_door),
        weekend_later=weekend - weekday,
    )


def _clock(mins: float) -> str:
    mins = round(mins) % 1440
    return f"{mins // 60:02d}:{mins % 60:02d}"


def _describe(profile: str, avg: Averages, days: int) -> str:
    door = f", and the front door opened at night on {avg.door_nights} nights" if avg.door_nights else ""
    weekend = f" ({round(avg.weekend_later)} min later at weekends)" if abs(avg.weekend_later) >= 15 else ""
    return (
        f"The **{profile}** resident got up at {_clock(avg.wake)} on average, give or take "
        f"{round(avg.wake_sd)} min{weekend}, and went to bed at {_clock(avg.bed)}. "
        f"{avg.night_toilet:.1f} toilet visits a night, {avg.meals:.1f} cooking sessions a day, "
        f"out on {avg.days_out} of {days} days (about {_duration(avg.minutes_out)} each time), "
        f"{avg.carer_visits:.1f} carer visits a day{door}."
    )


_READING = (
    "How to read the tables: *Up* is when the bed pad emptied for the day and *To bed* when it filled "
    "for the night; *Night toilet* counts separate bursts of bathroom motion between the two; *Meals* "
    "counts kitchen sessions of eight minutes or more in which the fridge, kettle or microwave was used "
    "(snacks that turn into a cup of tea and a sandwich, and carers' cooking, count too); *Out* adds up "
    "the time between two front-door openings with no motion and nobody on the bed or chair in between; "
    "*Carer visits* counts first taps of a carer's tag on the door reader; *Door at night* counts "
    "front-door openings between midnight and 05:00."
)


def _labels(stream: HomeStream) -> str:
    if not stream.incidents:
        return "no labelled incidents"
    kinds = Counter(i.kind for i in stream.incidents)
    return "labelled incidents: " + ", ".join(f"{kind} × {n}" for kind, n in sorted(kinds.items()))


MONTH_HOMES = (("active", "flat"), ("frail", "bungalow"), ("dementia", "house"))


def month_report(seed: int, start: date = date(2025, 3, 10), days: int = 30) -> str:
    """A markdown report of one simulated month for each profile (the source of docs/simulated-month.md)."""
    parts, notes = [], []
    for profile, layout in MONTH_HOMES:
        stream = simulate_home(seed=seed, profile=profile, layout=layout, start=start, days=days)
        rows = daily_summary(stream)
        avg = averages(rows)
        notes.append(_describe(profile, avg, days))
        parts.append(
            f"## {profile.capitalize()} ({layout})\n\n{get_profile(profile).description}\n\n"
            f"{len(stream.events)} messages; {_labels(stream)}.\n\n{render_markdown(rows)}"
        )
    head = (
        f"# A simulated month\n\nThree homes simulated with `simulate_home(seed={seed}, ...)` "
        f"from {start:%d %B %Y} for {days} days (Europe/London), with no injected incidents. "
        "Every number below is computed by `simulators.summary.daily_summary` from the device messages "
        "alone, the way the backend would see them (duplicates dropped, device clocks as sent). Made by "
        f"`simulators.summary.month_report({seed})`.\n\n## How they differ\n\n"
    )
    return head + "\n\n".join([*notes, _READING]) + "\n\n" + "\n".join(parts)
