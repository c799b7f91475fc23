"""The simulated resident's routine: determinism, the device contract, ordering, profiles that differ."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from datetime import date, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import orjson
import pytest

from devices.contract import MessageKind, parse_payload
from simulators.carers import plan_visits
from simulators.home import simulate_home
from simulators.incidents import Ctx, apply_incidents, plan_incidents
from simulators.layouts import LAYOUTS, get_layout
from simulators.model import HomeStream
from simulators.profiles import PROFILES, get_profile
from simulators.resident import plan_resident
from simulators.summary import DaySummary, averages, daily_summary, render_markdown
from simulators.timeline import LocalClock, check_timeline

LONDON = ZoneInfo("Europe/London")
DST_WEEK = date(2025, 3, 24)  # the clocks go forward on Sunday 30 March


@pytest.fixture(scope="module")
def week() -> HomeStream:
    return simulate_home(seed=3, profile="frail", layout="house", start=DST_WEEK, days=7)


@pytest.fixture(scope="module")
def months() -> dict[str, HomeStream]:
    return {
        p: simulate_home(seed=5, profile=p, layout="flat", start=date(2025, 2, 3), days=28)
        for p in ("active", "frail", "dementia")
    }


@pytest.fixture(scope="module")
def month_rows(months: dict[str, HomeStream]) -> dict[str, list[DaySummary]]:
    return {profile: daily_summary(stream) for profile, stream in months.items()}


def _payload(event_fields: dict[str, object], ts: str, seq: int) -> bytes:
    return orjson.dumps({**event_fields, "ts": ts, "seq": seq})


def test_same_seed_gives_the_same_stream() -> None:
    args = {"profile": "dementia", "layout": "bungalow", "start": date(2025, 10, 20), "days": 4}
    first = simulate_home(seed=42, incident_rate=1.0, **args)  # type: ignore[arg-type]
    again = simulate_home(seed=42, incident_rate=1.0, **args)  # type: ignore[arg-type]
    assert first == again
    assert [e.payload_bytes() for e in first.events] == [e.payload_bytes() for e in again.events]


def test_different_seed_gives_a_different_stream() -> None:
    one = simulate_home(seed=1, profile="active", layout="flat", start=date(2025, 6, 2), days=2)
    two = simulate_home(seed=2, profile="active", layout="flat", start=date(2025, 6, 2), days=2)
    assert one.events != two.events
    motion = [[e.at for e in s.events if e.kind is MessageKind.MOTION] for s in (one, two)]
    assert motion[0] != motion[1]


@pytest.mark.parametrize("profile", sorted(PROFILES))
@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_every_event_parses_against_the_contract(profile: str, layout: str) -> None:
    stream = simulate_home(
        seed=9, profile=profile, layout=layout, start=date(2025, 1, 13), days=2, incident_rate=3
    )
    kinds = set()
    for event in stream.events:
        message = parse_payload(event.kind, _payload(event.fields, event.at.isoformat(), event.seq))
        assert message.ts == event.at
        assert message.seq == event.seq
        assert event.payload_bytes() == _payload(event.fields, event.at.isoformat(), event.seq)
        kinds.add(event.kind)
    assert {MessageKind.MOTION, MessageKind.OCCUPANCY, MessageKind.POWER, MessageKind.HEARTBEAT} <= kinds


def test_events_are_sorted_by_publish_time_with_sane_seqs(week: HomeStream) -> None:
    publish = [e.publish_at for e in week.events]
    assert publish == sorted(publish)
    originals: dict[tuple[str, int], object] = {}
    by_device: dict[str, list[tuple[object, int]]] = defaultdict(list)
    for event in week.events:
        assert event.at.utcoffset() == timedelta(0)
        if event.duplicate:
            continue
        assert (event.device_key, event.seq) not in originals, "a seq is never reused"
        originals[(event.device_key, event.seq)] = event
        by_device[event.device_key].append((event.true_at, event.seq))
    for event in (e for e in week.events if e.duplicate):
        original = originals[(event.device_key, event.seq)]
        assert (original.at, original.fields) == (event.at, event.fields)  # type: ignore[attr-defined]
    for key, pairs in by_device.items():
        seqs = [seq for _, seq in sorted(pairs, key=lambda p: (p[0], p[1]))]
        assert seqs == sorted(seqs), key


def test_every_device_heartbeats_at_its_interval(week: HomeStream) -> None:
    beats: dict[str, list[float]] = defaultdict(list)
    for event in week.events:
        if event.kind is MessageKind.HEARTBEAT and not event.duplicate:
            beats[event.device_key].append(event.true_at.timestamp())
    layout = get_layout("house")
    for spec in layout.devices:
        gaps = [b - a for a, b in pairwise(sorted(beats[spec.key]))]
        assert abs(statistics.median(gaps) - spec.heartbeat_s) < 5, spec.key


def test_a_day_has_the_parts_of_a_life(week: HomeStream) -> None:
    days: dict[date, Counter[str]] = defaultdict(Counter)
    for e in week.events:
        local = e.true_at.astimezone(LONDON)
        f = e.fields
        label = {
            MessageKind.OCCUPANCY: f"{e.device_key}={f.get('occupied')}",
            MessageKind.POWER: f"{f.get('appliance')}={'on' if f.get('watts', 0) > 10 else 'off'}",
            MessageKind.CONTACT: f"{e.device_key}={f.get('open')}",
            MessageKind.MOTION: f"motion={f.get('detected')}",
        }.get(e.kind, e.kind.value)
        days[local.date()][label] += 1
        if e.kind is MessageKind.FLUSH and local.hour < 5:
            days[local.date()]["night flush"] += 1
    wanted = ["bed-bedroom=True", "bed-bedroom=False", "chair-lounge=True", "kettle=on", "kettle=off"]
    wanted += ["tv=on", "door-fridge=True", "door-front=True", "flush", "tag", "temperature", "status"]
    for day in (DST_WEEK + timedelta(days=i) for i in range(7)):
        missing = [w for w in wanted if days[day][w] == 0]
        assert not missing, (day, missing)
        assert days[day]["motion=True"] > 100 and days[day]["motion=False"] == 0
    assert sum(days[d]["night flush"] for d in days) >= 3


def test_motion_repeats_every_few_minutes_while_someone_moves_about(week: HomeStream) -> None:
    kitchen = sorted(e.true_at for e in week.events if e.device_key == "motion-kitchen" and not e.duplicate)
    gaps = [(b - a).total_seconds() / 60 for a, b in pairwise(kitchen)]
    short = [g for g in gaps if g <= 5]
    assert len(short) > len(gaps) / 2
    assert statistics.median(short) > 0.5


def test_the_summary_reads_the_week(week: HomeStream) -> None:
    rows = daily_summary(week)
    assert [r.day for r in rows] == [DST_WEEK + timedelta(days=i) for i in range(7)]
    for row in rows:
        assert row.wake is not None and 7 <= row.wake.hour <= 10  # local time, also after the DST change
        assert row.bed is not None and 20 <= row.bed.hour <= 23
        assert row.meals >= 2 and row.carer_visits >= 3
    table = render_markdown(rows)
    assert table.count("\n") == 9 and "| Up |" in table


def _mean_wake(rows: list[DaySummary], weekend: bool) -> float:
    days = [r for r in rows if (r.day.weekday() >= 5) == weekend]
    return statistics.fmean(r.wake.hour * 60 + r.wake.minute for r in days if r.wake)


def test_profiles_differ_visibly(month_rows: dict[str, list[DaySummary]]) -> None:
    avg = {p: averages(rows) for p, rows in month_rows.items()}
    active, frail, dementia = avg["active"], avg["frail"], avg["dementia"]
    assert frail.wake > active.wake + 60  # frail gets up later
    assert abs(active.wake - dementia.wake) > 20
    assert dementia.wake_sd > active.wake_sd  # dementia sleep is irregular
    assert active.days_out * active.minutes_out > 2 * dementia.days_out * dementia.minutes_out
    assert active.days_out > 2 * frail.days_out
    assert dementia.night_toilet > active.night_toilet + 1
    assert frail.night_toilet > active.night_toilet + 0.5
    assert dementia.door_nights > 0 and active.door_nights == 0
    assert frail.carer_visits > 3 and active.carer_visits < 1


def test_weekends_differ_from_weekdays(month_rows: dict[str, list[DaySummary]]) -> None:
    active = month_rows["active"]
    assert _mean_wake(active, weekend=True) > _mean_wake(active, weekend=False) + 20


def test_firmware_quirks_are_in_the_stream_and_can_be_turned_off(months: dict[str, HomeStream]) -> None:
    stream = months["dementia"]
    assert any(e.duplicate for e in stream.events)
    assert any(e.skew_s != 0 for e in stream.events)
    late = [e for e in stream.events if e.delivery_delay_s > 20 and e.kind is not MessageKind.PRESENCE]
    assert late
    offline = [e for e in stream.events if e.kind is MessageKind.PRESENCE and e.fields["state"] == "offline"]
    assert offline and all(e.delivery_delay_s > 60 for e in offline)  # a will is sent by the broker later
    clean = simulate_home(
        seed=5, profile="dementia", layout="flat", start=date(2025, 2, 3), days=3, quirks=False
    )
    assert not any(e.duplicate or e.skew_s or e.delivery_delay_s for e in clean.events)


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_the_resident_is_always_somewhere(profile: str) -> None:
    clock = LocalClock(LONDON)
    person, layout = get_profile(profile), get_layout("house")
    for seed in range(4):
        start = date(2025, 1, 1) + timedelta(days=seed * 50)
        visits = plan_visits(home="h", profile=person, clock=clock, start=start, days=5, seed=seed)
        plans = plan_incidents(scenario=None, incident_rate=2.0, days=5, profile=person, seed=seed)
        segments = plan_resident(
            profile=person, layout=layout, clock=clock, start=start, days=5, visits=visits, seed=seed
        )
        ctx = Ctx("h", person, layout, clock, start, 5, tuple(v for v in visits if not v.missed))
        shaped = apply_incidents(plans, segments, ctx, seed)[0]
        for timeline in (segments, shaped):
            check_timeline(timeline)
            assert timeline[0].start == clock.at(start, 0) and timeline[-1].end == clock.at(start, 5 * 1440)
            assert all(a.end == b.start for a, b in pairwise(timeline))


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown profile"):
        simulate_home(seed=1, profile="nope", layout="flat", start=DST_WEEK, days=1)
    with pytest.raises(ValueError, match="unknown layout"):
        simulate_home(seed=1, profile="active", layout="castle", start=DST_WEEK, days=1)
    with pytest.raises(ValueError, match="days"):
        simulate_home(seed=1, profile="active", layout="flat", start=DST_WEEK, days=0)
