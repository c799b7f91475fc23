"""How simulated carers record a visit: by tapping the home's tag or by phone with a location fix and
its error, sometimes late from an offline phone; and the carers' slips, each labelled for the
evaluation: no check-out, a phone check-in from outside the home with nobody going in, a tag tapped at
the wrong home.

Drawn from a generator of their own, so that turning the habits on leaves the other draws of the
simulation (and every existing stream) as they were.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from simulators.model import CheckRecord, Fix, StrayTap, VisitRecord
from simulators.timeline import minutes, sub_rng

EARTH_M = 6_371_000.0


@dataclass(slots=True, frozen=True)
class Habits:
    """How often carers use the phone and make each slip (all zero: tags only, no slips)."""

    phone_p: float = 0.0  # check in and out by phone rather than the tag
    no_checkout_p: float = 0.0  # forget to check out
    phone_outside_p: float = 0.0  # check in by phone from the street and never go in
    wrong_home_p: float = 0.0  # per visit: also tap the tag at another client's door first
    offline_p: float = 0.1  # of phone checks: the phone was offline and sends later
    poor_fix_p: float = 0.05  # of phone fixes: indoors or between tall buildings, a poor fix


# Habits of a real care team, for `telecare simulate` and the visits evaluation.
REALISTIC = Habits(phone_p=0.4, no_checkout_p=0.02, phone_outside_p=0.015, wrong_home_p=0.01)


def home_location(seed: int) -> tuple[float, float]:
    """A simulated home's latitude and longitude (somewhere in a city of about 10 km across)."""
    rng = sub_rng(seed, "location")
    return 52.45 + rng.uniform(-0.05, 0.05), -1.90 + rng.uniform(-0.08, 0.08)


def offset(origin: tuple[float, float], north_m: float, east_m: float) -> tuple[float, float]:
    """The point so many metres north and east of `origin` (small distances)."""
    lat, lon = origin
    d_lat = math.degrees(north_m / EARTH_M)
    d_lon = math.degrees(east_m / (EARTH_M * math.cos(math.radians(lat))))
    return lat + d_lat, lon + d_lon


def phone_fix(origin: tuple[float, float], away_m: float, rng: random.Random, poor_p: float) -> Fix:
    """A phone's fix of a carer `away_m` from the home: a true position plus the receiver's error."""
    accuracy = rng.uniform(80, 200) if rng.random() < poor_p else rng.uniform(5, 40)
    bearing = rng.uniform(0, 2 * math.pi)
    true = offset(origin, away_m * math.cos(bearing), away_m * math.sin(bearing))
    # The reported accuracy is about the 68 % radius: each axis errs by about accuracy / 1.5.
    lat, lon = offset(true, rng.gauss(0, accuracy / 1.5), rng.gauss(0, accuracy / 1.5))
    return Fix(round(lat, 6), round(lon, 6), round(accuracy, 1))


def _check(
    at: datetime, phone: bool, origin: tuple[float, float], away_m: float, rng: random.Random, habits: Habits
) -> CheckRecord:
    if not phone:
        return CheckRecord(at, "tag")
    fix = phone_fix(origin, away_m, rng, habits.poor_fix_p)
    delay = rng.uniform(300, 5400) if rng.random() < habits.offline_p else rng.uniform(0.5, 5)
    return CheckRecord(at, "phone", fix, round(delay, 1))


def record_checks(
    visits: list[VisitRecord], *, habits: Habits, origin: tuple[float, float], seed: int
) -> list[VisitRecord]:
    """Each visit with how the carer checked in and out, and its slips (labelled in `outcome`)."""
    out = []
    for index, visit in enumerate(visits):
        rng = sub_rng(seed, "checks", index)
        phone = rng.random() < habits.phone_p
        forgot, outside = rng.random() < habits.no_checkout_p, rng.random() < habits.phone_outside_p
        if visit.actual_start is None or visit.actual_end is None:
            out.append(visit)
        elif outside:
            # In the street: checks in and out by phone, and nobody goes in.
            start, end = visit.actual_start, visit.actual_end
            away = rng.uniform(40, 400)
            checks = (
                _check(start, True, origin, away, rng, habits),
                _check(end, True, origin, away, rng, habits),
            )
            out.append(
                replace(visit, actual_start=None, actual_end=None, outcome="unverified", checks=checks)
            )
        else:
            start, end = visit.actual_start, visit.actual_end
            check_in = _check(start, phone, origin, rng.uniform(0, 15), rng, habits)
            check_out = None if forgot else _check(end, phone, origin, rng.uniform(0, 15), rng, habits)
            outcome = "no_checkout" if forgot else visit.outcome
            out.append(replace(visit, outcome=outcome, checks=(check_in, check_out)))
    return out


def stray_taps(
    visits: list[VisitRecord], *, habits: Habits, foreign_tags: tuple[str, ...], seed: int
) -> list[StrayTap]:
    """Taps at this home's reader by carers of other homes who came to the wrong door (and left)."""
    taps = []
    for index, visit in enumerate(visits):
        rng = sub_rng(seed, "stray", index)
        if foreign_tags and rng.random() < habits.wrong_home_p:
            # Between this home's visits: an hour after one ends, when no carer of its own is due.
            at = minutes(visit.planned_end, rng.uniform(50, 80))
            taps.append(StrayTap(visit.home, rng.choice(foreign_tags), at))
    return [t for t in taps if not any(_near(t.at, v) for v in visits)]


def _near(at: datetime, visit: VisitRecord) -> bool:
    pad = timedelta(minutes=30)
    return visit.planned_start - pad <= at <= visit.planned_end + pad
