"""Public entry point: one simulated home's life as a deterministic stream of device messages."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from devices.contract import MessageKind
from simulators.carers import carer_tags, missed_incidents, plan_visits
from simulators.checkins import Habits, home_location, record_checks, stray_taps
from simulators.environment import health_readings, temperature_readings
from simulators.firmware import deliver
from simulators.incidents import Ctx, Faults, apply_incidents, forced_misses, plan_incidents
from simulators.layouts import Layout, get_layout
from simulators.model import HomeStream, Incident, ScenarioItem, StrayTap, VisitRecord
from simulators.profiles import CarerSlot, Profile, get_profile
from simulators.resident import plan_resident
from simulators.sensing import sense
from simulators.timeline import Emit, LocalClock, seconds, sub_rng, to_ms


@dataclass(slots=True, frozen=True)
class _Run:
    """One simulation's fixed inputs."""

    name: str
    person: Profile
    home: Layout
    clock: LocalClock
    start: date
    days: int
    seed: int
    habits: Habits | None = None
    foreign_tags: tuple[str, ...] = ()

    @property
    def span(self) -> tuple[datetime, datetime]:
        """UTC start and end of the simulated period."""
        return self.clock.at(self.start, 0), self.clock.at(self.start, self.days * 1440)


def _life(
    run: _Run, incident_rate: float, scenario: list[ScenarioItem] | None
) -> tuple[list[Emit], list[Incident], list[VisitRecord], Faults, list[StrayTap]]:
    """The care plan, the resident's routine and the incidents: readings, labels, visits and faults."""
    plans = plan_incidents(
        scenario=scenario, incident_rate=incident_rate, days=run.days, profile=run.person, seed=run.seed
    )
    misses = forced_misses(plans, run.person, run.start, run.days)
    visits = plan_visits(
        home=run.name, profile=run.person, clock=run.clock, start=run.start, days=run.days, seed=run.seed,
        force_missed=misses,
    )  # fmt: skip
    taps: list[StrayTap] = []
    if run.habits is not None:
        origin = home_location(run.seed)
        visits = record_checks(visits, habits=run.habits, origin=origin, seed=run.seed)
        taps = stray_taps(visits, habits=run.habits, foreign_tags=run.foreign_tags, seed=run.seed)
    segments = plan_resident(
        profile=run.person, layout=run.home, clock=run.clock, start=run.start, days=run.days, visits=visits,
        seed=run.seed,
    )  # fmt: skip
    came = tuple(v for v in visits if not v.missed)
    ctx = Ctx(run.name, run.person, run.home, run.clock, run.start, run.days, came)
    segments, labels, extra, faults = apply_incidents(plans, segments, ctx, run.seed)
    strays = [Emit(seconds(t.at, 5), "nfc-front", MessageKind.TAG, {"tag_id": t.tag_id}) for t in taps]
    emits = sense(segments, run.home, run.person, sub_rng(run.seed, "sense")) + extra + strays
    return emits, [*labels, *missed_incidents(visits)], visits, faults, taps


def simulate_home(
    *,
    seed: int,
    profile: str,
    layout: str,
    start: date,
    days: int,
    incident_rate: float = 0.0,
    scenario: list[ScenarioItem] | None = None,
    tz: str = "Europe/London",
    home_name: str | None = None,
    quirks: bool = True,
    habits: Habits | None = None,
    foreign_tags: tuple[str, ...] | None = None,
    plan: tuple[CarerSlot, ...] | None = None,
) -> HomeStream:
    """Simulate `days` days of one home from local midnight of `start`; same arguments, same stream.

    incident_rate is the mean number of random incidents per day; scenario lists incidents to inject;
    quirks=False turns off clock skew, duplicates, delayed delivery and short reconnects. habits (see
    simulators/checkins.py) has carers check in by tag or phone and make labelled slips; foreign_tags
    are other homes' carers' tags, some tapped here by mistake (default: a rota of another seed); plan
    replaces the profile's carer slots (the home's stored care plan, simulators/plans.py).
    """
    if days < 1:
        raise ValueError("days must be at least 1")
    if incident_rate < 0:
        raise ValueError("incident_rate must not be negative")
    salted = _salted(seed, profile, layout)
    name = home_name or f"sim-{profile}-{layout}-{seed}"
    others = carer_tags(salted + 1) if foreign_tags is None else foreign_tags
    person = get_profile(profile) if plan is None else replace(get_profile(profile), carers=plan)
    run = _Run(
        name, person, get_layout(layout), LocalClock(ZoneInfo(tz)), start, days, salted, habits, others
    )
    emits, labels, visits, faults, taps = _life(run, incident_rate, scenario)
    temps, cold = temperature_readings(
        home=name, layout=run.home, profile=run.person, clock=run.clock, start=start, days=days, seed=salted,
        heating_off=faults.heating_off,
    )  # fmt: skip
    begin, end = run.span
    emits += temps + health_readings(
        layout=run.home, begin=begin, end=end, seed=salted, low_battery=faults.low_battery
    )
    events = deliver(
        emits, layout=run.home, begin=begin, end=end, offline=faults.offline, seed=salted, quirks=quirks
    )
    # Labels are cut to the millisecond like event times, so that an event at a label's edge matches it.
    incidents = sorted(
        (replace(i, start=to_ms(i.start), end=to_ms(i.end)) for i in [*labels, *cold]),
        key=lambda i: (i.start, i.kind),
    )
    location = home_location(salted) if habits is not None else None
    return HomeStream(name, layout, profile, events, incidents, visits, tz, start, days, location, taps)


def _salted(seed: int, profile: str, layout: str) -> int:
    # Each (profile, layout) gets its own random streams, so that one seed gives unrelated lives.
    return int.from_bytes(hashlib.sha256(f"{seed}/{profile}/{layout}".encode()).digest()[:8], "big")


def home_rota(*, seed: int, profile: str, layout: str) -> tuple[str, ...]:
    """The tag ids of the care team simulate_home gives this home (to register them as carers' tags)."""
    return carer_tags(_salted(seed, profile, layout))
