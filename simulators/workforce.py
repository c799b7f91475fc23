"""A home-care provider in one town: its carers, its clients and their care plans, a month of history, and
the provider's own rota (regular carer first, then whoever is nearest), for the demo, tests and benchmark."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from rostering.greedy import greedy
from rostering.model import Carer, GeoPoint, PastVisit, Plan, Problem, Shift, TravelMode, Visit, Weights
from rostering.travel import TravelMatrix

TOWN = GeoPoint(52.2053, 0.1218)
TOWN_RADIUS_KM = 5.0
TZ = ZoneInfo("Europe/London")

# (name, planned local start range in minutes, minutes, share of clients with this call)
CALLS = (
    ("morning", (7 * 60, 11 * 60), 40, 0.95),
    ("lunch", (11 * 60 + 30, 13 * 60 + 30), 30, 0.7),
    ("tea", (16 * 60, 18 * 60), 25, 0.6),
    ("bed", (18 * 60 + 30, 20 * 60 + 30), 25, 0.5),
)
# A shift pattern's stretches of the day, in local minutes. The calls come in two peaks (morning and lunch,
# then tea and bed) with nothing between 14:00 and 15:00, so a provider staffs them with a morning, an
# evening and a split shift (both peaks, unpaid between), the usual pattern in home care.
SHIFTS: dict[str, tuple[tuple[int, int], ...]] = {
    "early": ((7 * 60, 14 * 60 + 30),),
    "split": ((7 * 60, 14 * 60), (16 * 60, 22 * 60)),
    "late": ((15 * 60, 22 * 60),),
}
PEAKS = {"morning": "am", "lunch": "am", "tea": "pm", "bed": "pm"}
PEAK_HOURS = {"am": 7.0, "pm": 6.0}  # the shortest stretch a pattern gives each peak
BUSY_SHARE = 0.85  # how much of a peak's paid time a provider plans to fill with care and travel
TRAVEL_H_PER_CARER_VISIT = 10 / 60  # in a town of 5 km radius


@dataclass(slots=True, frozen=True)
class Client:
    """A person receiving care at home."""

    id: str
    name: str
    home: GeoPoint
    needs: frozenset[str]  # skills every visit needs
    double_up: bool
    calls: tuple[tuple[str, int, int], ...]  # (call, planned local minute, minutes)


@dataclass(slots=True, frozen=True)
class CarerSpec:
    """A carer's standing attributes; shifts come from their pattern for each day."""

    id: str
    name: str
    home: GeoPoint
    skills: frozenset[str]
    travel_mode: TravelMode
    pattern: str
    max_week_h: float


@dataclass(slots=True, frozen=True)
class Workforce:
    """Everything the simulator made."""

    carers: tuple[CarerSpec, ...]
    clients: tuple[Client, ...]
    regular: dict[str, tuple[str, ...]]  # client -> their usual carers, most regular first


def _point(rng: random.Random) -> GeoPoint:
    r = TOWN_RADIUS_KM * math.sqrt(rng.random())
    a = rng.uniform(0, 2 * math.pi)
    dlat = r * math.cos(a) / 111.2
    dlon = r * math.sin(a) / (111.2 * math.cos(math.radians(TOWN.lat)))
    return GeoPoint(round(TOWN.lat + dlat, 6), round(TOWN.lon + dlon, 6))


def _carer(rng: random.Random, n: int) -> CarerSpec:
    skills = {
        s
        for s, p in (("medication", 0.85), ("hoist", 0.5), ("dementia", 0.5), ("peg", 0.12))
        if rng.random() < p
    }
    mode = rng.choices([TravelMode.CAR, TravelMode.BICYCLE, TravelMode.WALK], [0.75, 0.15, 0.1])[0]
    pattern = "early"  # until the provider staffs its clients' peaks (_staffed)
    return CarerSpec(
        f"carer-{n:02d}",
        f"Carer {n:02d}",
        _point(rng),
        frozenset(skills),
        mode,
        pattern,
        rng.choice([37.5, 45.0, 48.0]),
    )


def _client(rng: random.Random, n: int) -> Client:
    needs = {s for s, p in (("dementia", 0.15), ("peg", 0.03)) if rng.random() < p}
    double = rng.random() < 0.1
    if double:
        needs.add("hoist")
    calls = []
    for name, (lo, hi), minutes, share in CALLS:
        if rng.random() < share:
            calls.append((name, rng.randrange(lo, hi + 1, 15), minutes + (15 if double else 0)))
    if not calls:
        calls.append(("morning", 8 * 60, 45))
    return Client(f"client-{n:03d}", f"Client {n:03d}", _point(rng), frozenset(needs), double, tuple(calls))


def _km(a: GeoPoint, b: GeoPoint) -> float:
    return math.hypot((a.lat - b.lat) * 111.2, (a.lon - b.lon) * 111.2 * math.cos(math.radians(a.lat)))


def make_workforce(*, carers: int = 40, visits_per_day: int = 400, seed: int = 7) -> Workforce:
    """A provider's carers and clients in one town, sized to about visits_per_day visits a day."""
    rng = random.Random(seed)
    staff = tuple(_carer(rng, n + 1) for n in range(carers))
    clients: list[Client] = []
    total = 0
    while total < visits_per_day:
        client = _client(rng, len(clients) + 1)
        clients.append(client)
        total += len(client.calls)
    staff = _staffed(staff, clients)
    regular: dict[str, tuple[str, ...]] = {}
    for client in clients:
        able = [c for c in staff if client.needs <= c.skills] or list(staff)
        able.sort(key=lambda c: _km(c.home, client.home))
        regular[client.id] = tuple(c.id for c in able[:4])
    return Workforce(staff, tuple(clients), regular)


def peak_need_h(clients: Sequence[Client]) -> dict[str, float]:
    """A day's care and travel in each peak, in carer-hours (a double-up counts twice)."""
    need = {"am": 0.0, "pm": 0.0}
    for client in clients:
        carers = 2 if client.double_up else 1
        for name, _minute, minutes in client.calls:
            need[PEAKS[name]] += carers * (minutes / 60 + TRAVEL_H_PER_CARER_VISIT)
    return need


def staffing(carers: int, need_h: dict[str, float]) -> dict[str, int]:
    """How many carers work each pattern so that each peak is staffed to its need, as far as they go."""
    want = {
        peak: min(carers, math.ceil(need / BUSY_SHARE / PEAK_HOURS[peak])) for peak, need in need_h.items()
    }
    split = min(want["am"], want["pm"], max(0, want["am"] + want["pm"] - carers))
    early, late = want["am"] - split, want["pm"] - split
    spare = carers - split - early - late
    # Carers beyond both peaks' need go where the need is larger.
    if need_h["am"] / PEAK_HOURS["am"] >= need_h["pm"] / PEAK_HOURS["pm"]:
        early += spare
    else:
        late += spare
    return {"split": split, "early": early, "late": late}


def _staffed(staff: tuple[CarerSpec, ...], clients: Sequence[Client]) -> tuple[CarerSpec, ...]:
    """The carers with shift patterns that staff the clients' peaks: a provider staffs to its demand."""
    mix = staffing(len(staff), peak_need_h(clients))
    patterns = [name for name, count in mix.items() for _ in range(count)]
    return tuple(replace(spec, pattern=patterns[n]) for n, spec in enumerate(staff))


def _at(day: date, minute: int) -> datetime:
    return datetime.combine(day, time(minute // 60, minute % 60), tzinfo=TZ)


def visits_for(workforce: Workforce, day: date) -> list[Visit]:
    """The day's visits from the care plans: start window half an hour either side, medication mornings."""
    out = []
    for client in workforce.clients:
        for name, minute, minutes in client.calls:
            skills = set(client.needs)
            if name == "morning" and int(client.id[-3:]) % 2 == 0:
                skills.add("medication")
            planned = _at(day, minute)
            # Medication is time-critical: half an hour either side; other care three quarters.
            slack = 30 if "medication" in skills else 45
            out.append(
                Visit(
                    id=f"{client.id}:{day.isoformat()}:{name}",
                    client_id=client.id,
                    location=client.home,
                    planned_start=planned,
                    window_start=planned - timedelta(minutes=slack),
                    window_end=planned + timedelta(minutes=slack),
                    duration_s=minutes * 60,
                    carers_needed=2 if client.double_up else 1,
                    skills=frozenset(skills),
                )
            )
    return out


def carers_for(workforce: Workforce, days: list[date], *, rest_days: bool = True) -> list[Carer]:
    """The carers with their shifts on the given days (each works their pattern five days in seven, or
    every day asked for when rest_days is False, as a one-day benchmark wants its whole workforce)."""
    out = []
    for spec in workforce.carers:
        off = int(spec.id[-2:]) % 7
        shifts = tuple(
            Shift(_at(d, lo), _at(d, hi))
            for d in days
            if not rest_days or d.weekday() not in (off, (off + 3) % 7)
            for lo, hi in SHIFTS[spec.pattern]
        )
        out.append(
            Carer(
                spec.id,
                spec.name,
                spec.home,
                spec.skills,
                spec.travel_mode,
                shifts,
                max_week_s=round(spec.max_week_h * 3600),
            )
        )
    return out


def history_for(workforce: Workforce, before: date, *, days: int = 28, seed: int = 11) -> list[PastVisit]:
    """A month of who visited whom: mostly the regular carers, sometimes someone else."""
    rng = random.Random(seed)
    staff = [c.id for c in workforce.carers]
    out = []
    for back in range(1, days + 1):
        day = before - timedelta(days=back)
        for client in workforce.clients:
            usual = workforce.regular[client.id]
            for _name, minute, _minutes in client.calls:
                r = rng.random()
                carer = (
                    usual[0]
                    if r < 0.45
                    else usual[min(len(usual) - 1, 1 + int(r * 10) % 3)]
                    if r < 0.85
                    else rng.choice(staff)
                )
                out.append(PastVisit(client.id, carer, _at(day, minute)))
    return out


def problem_for(
    workforce: Workforce, days: list[date], weights: Weights | None = None, *, rest_days: bool = True
) -> Problem:
    """The rostering problem for a range of days, with the month's history before it."""
    visits = [v for d in days for v in visits_for(workforce, d)]
    return Problem(
        tuple(visits),
        tuple(carers_for(workforce, days, rest_days=rest_days)),
        tuple(history_for(workforce, days[0])),
        weights or Weights(),
    )


def provider_rota(workforce: Workforce, problem: Problem, travel: TravelMatrix) -> Plan:
    """The provider's own rota: the client's regular carers first, whoever is nearest when none is free."""
    return greedy(problem, travel, prefer=workforce.regular)
