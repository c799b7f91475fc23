"""Resident profiles as data: when someone sleeps, eats, goes out and how often carers come."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date


def hm(text: str) -> float:
    """Minutes after midnight of "HH:MM" (hours past 23 mean after midnight, e.g. "24:30")."""
    hours, mins = text.split(":")
    return int(hours) * 60 + int(mins)


@dataclass(slots=True, frozen=True)
class Spread:
    """A normal distribution in minutes (a time of day or a duration), clipped to [lo, hi]."""

    mean: float
    sd: float
    lo: float
    hi: float

    def sample(self, rng: random.Random) -> float:
        """One draw, clipped."""
        return min(self.hi, max(self.lo, rng.gauss(self.mean, self.sd)))


def at(mean: str, sd: float, lo: str, hi: str) -> Spread:
    """A time-of-day spread written with clock times."""
    return Spread(hm(mean), sd, hm(lo), hm(hi))


@dataclass(slots=True, frozen=True)
class CarerSlot:
    """A visit in the care plan: name, local start, planned minutes, weekdays (0 = Monday), room shares."""

    name: str
    start: float
    minutes: float
    weekdays: frozenset[int]
    tasks: tuple[tuple[str, float], ...]


EVERY_DAY = frozenset(range(7))


@dataclass(slots=True, frozen=True)
class Profile:
    """How one kind of resident lives; pairs are (weekday, weekend)."""

    name: str
    description: str
    wake: tuple[Spread, Spread]
    bed: tuple[Spread, Spread]
    night_toilet_rate: float  # mean toilet visits per night
    night_restless_rate: float  # mean night-time trips to the kitchen or lounge
    night_door_prob: float  # chance per night of opening the front door (wandering)
    bed_restlessness: float  # bedroom motion triggers per hour asleep
    breakfast: Spread
    lunch: Spread
    dinner: Spread
    meal_skip_prob: float
    snack_rate: float  # mean kitchen snacks/drinks per day besides meals
    microwave_prob: float  # chance a lunch or dinner is heated in the microwave
    out_prob: tuple[float, float]
    out_start: Spread
    out_minutes: Spread
    visitor_rate: tuple[float, float]
    visitor_minutes: Spread
    wash_morning_prob: float
    wash_evening_prob: float
    wash_minutes: Spread
    tv_prob: float  # chance a lounge sitting has the TV on (evenings always more)
    sit_minutes: Spread
    sit_motion_min: tuple[float, float]  # minutes between motion triggers while sitting
    nap_prob: float
    day_toilet_every_min: float
    pace_s: float  # seconds to cross a room
    heating_setpoint: float
    carers: tuple[CarerSlot, ...]

    def pick(self, pair: tuple[Spread, Spread], day: date) -> Spread:
        """The weekday or weekend member of a pair."""
        return pair[1] if day.weekday() >= 5 else pair[0]

    def pick_rate(self, pair: tuple[float, float], day: date) -> float:
        """The weekday or weekend member of a pair of rates."""
        return pair[1] if day.weekday() >= 5 else pair[0]


ACTIVE = Profile(
    name="active",
    description="Active and independent: up early, out most days, regular meals, family at weekends.",
    wake=(at("06:45", 20, "05:45", "08:00"), at("07:40", 30, "06:30", "09:00")),
    bed=(at("22:45", 25, "21:45", "24:15"), at("23:20", 30, "22:00", "24:45")),
    night_toilet_rate=0.4,
    night_restless_rate=0.05,
    night_door_prob=0.0,
    bed_restlessness=0.3,
    breakfast=at("07:30", 15, "06:15", "09:30"),
    lunch=at("12:45", 25, "11:45", "14:00"),
    dinner=at("18:15", 30, "17:15", "19:45"),
    meal_skip_prob=0.04,
    snack_rate=0.6,
    microwave_prob=0.3,
    out_prob=(0.85, 0.7),
    out_start=at("10:00", 80, "08:45", "16:00"),
    out_minutes=Spread(170, 70, 45, 330),
    visitor_rate=(0.15, 0.45),
    visitor_minutes=Spread(80, 30, 30, 180),
    wash_morning_prob=0.9,
    wash_evening_prob=0.3,
    wash_minutes=Spread(18, 5, 8, 35),
    tv_prob=0.5,
    sit_minutes=Spread(45, 20, 15, 100),
    sit_motion_min=(3, 14),
    nap_prob=0.05,
    day_toilet_every_min=190,
    pace_s=6,
    heating_setpoint=20.0,
    carers=(CarerSlot("welfare", hm("09:00"), 30, frozenset({0, 3}), (("lounge", 0.6), ("kitchen", 0.4))),),
)

FRAIL = Profile(
    name="frail",
    description="Frail: mostly at home, long sitting in the lounge, slower, later wake, four care calls.",
    wake=(at("08:30", 25, "07:30", "10:00"), at("08:50", 30, "07:45", "10:15")),
    bed=(at("21:30", 25, "20:45", "23:00"), at("21:40", 25, "20:45", "23:15")),
    night_toilet_rate=1.6,
    night_restless_rate=0.15,
    night_door_prob=0.0,
    bed_restlessness=0.6,
    breakfast=at("09:15", 15, "08:00", "10:45"),
    lunch=at("12:50", 20, "12:00", "14:00"),
    dinner=at("17:30", 20, "16:45", "18:45"),
    meal_skip_prob=0.05,
    snack_rate=0.7,
    microwave_prob=0.6,
    out_prob=(0.12, 0.2),
    out_start=at("11:00", 60, "10:00", "15:00"),
    out_minutes=Spread(75, 25, 30, 150),
    visitor_rate=(0.3, 0.6),
    visitor_minutes=Spread(70, 25, 25, 150),
    wash_morning_prob=0.3,
    wash_evening_prob=0.15,
    wash_minutes=Spread(25, 8, 10, 45),
    tv_prob=0.85,
    sit_minutes=Spread(90, 35, 30, 180),
    sit_motion_min=(6, 20),
    nap_prob=0.75,
    day_toilet_every_min=150,
    pace_s=20,
    heating_setpoint=21.5,
    carers=(
        CarerSlot(
            "morning", hm("08:45"), 45, EVERY_DAY, (("bedroom", 0.3), ("bathroom", 0.4), ("kitchen", 0.3))
        ),
        CarerSlot("lunch", hm("12:30"), 20, EVERY_DAY, (("kitchen", 0.7), ("lounge", 0.3))),
        CarerSlot("tea", hm("16:45"), 30, EVERY_DAY, (("kitchen", 0.6), ("lounge", 0.4))),
        CarerSlot("bedtime", hm("20:30"), 20, EVERY_DAY, (("bathroom", 0.5), ("bedroom", 0.5))),
    ),
)

DEMENTIA = Profile(
    name="dementia",
    description="Early dementia: restless nights, night toilet visits, sometimes the front door at night.",
    wake=(at("06:15", 60, "04:30", "09:30"), at("06:25", 60, "04:30", "09:30")),
    bed=(at("21:45", 55, "20:30", "24:30"), at("21:50", 55, "20:30", "24:30")),
    night_toilet_rate=2.4,
    night_restless_rate=1.1,
    night_door_prob=0.1,
    bed_restlessness=1.5,
    breakfast=at("08:00", 50, "06:30", "10:30"),
    lunch=at("12:45", 60, "11:00", "15:00"),
    dinner=at("17:45", 60, "16:00", "20:00"),
    meal_skip_prob=0.25,
    snack_rate=1.4,
    microwave_prob=0.5,
    out_prob=(0.3, 0.35),
    out_start=at("11:00", 90, "09:30", "16:00"),
    out_minutes=Spread(60, 25, 20, 120),
    visitor_rate=(0.35, 0.7),
    visitor_minutes=Spread(60, 25, 20, 150),
    wash_morning_prob=0.5,
    wash_evening_prob=0.2,
    wash_minutes=Spread(15, 6, 5, 35),
    tv_prob=0.7,
    sit_minutes=Spread(40, 25, 10, 120),
    sit_motion_min=(2, 10),
    nap_prob=0.4,
    day_toilet_every_min=100,
    pace_s=12,
    heating_setpoint=20.5,
    carers=(
        CarerSlot(
            "morning", hm("08:00"), 30, EVERY_DAY, (("bedroom", 0.3), ("bathroom", 0.3), ("kitchen", 0.4))
        ),
        CarerSlot("lunch", hm("12:30"), 20, EVERY_DAY, (("kitchen", 0.7), ("lounge", 0.3))),
        CarerSlot("tea", hm("17:00"), 20, EVERY_DAY, (("kitchen", 0.6), ("lounge", 0.4))),
        CarerSlot("bedtime", hm("20:00"), 20, EVERY_DAY, (("bathroom", 0.4), ("bedroom", 0.6))),
    ),
)

PROFILES: dict[str, Profile] = {p.name: p for p in (ACTIVE, FRAIL, DEMENTIA)}


def get_profile(name: str) -> Profile:
    """The profile called `name`; ValueError lists the known ones."""
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown profile {name!r}; known: {', '.join(sorted(PROFILES))}") from None
