"""Injected incidents: every label is matched by what the devices report, and the stream shows it."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from devices.contract import MessageKind
from simulators.home import simulate_home
from simulators.model import INCIDENT_KINDS, HomeStream, Incident, ScenarioItem, SimEvent

LONDON = ZoneInfo("Europe/London")
START = date(2025, 1, 6)
SCENARIO = [ScenarioItem(kind, day) for day, kind in enumerate(INCIDENT_KINDS, start=1)]
HOMES = [("frail", "house"), ("active", "flat"), ("dementia", "bungalow")]
SLACK = timedelta(seconds=1)  # event times are kept to the millisecond


@pytest.fixture(scope="module", params=HOMES, ids=lambda h: f"{h[0]}-{h[1]}")
def stream(request: pytest.FixtureRequest) -> HomeStream:
    profile, layout = request.param
    days = len(INCIDENT_KINDS) + 2
    return simulate_home(seed=11, profile=profile, layout=layout, start=START, days=days, scenario=SCENARIO)


def _label(stream: HomeStream, kind: str) -> Incident:
    labels = [i for i in stream.incidents if i.kind == kind]
    assert labels, f"no {kind} label"
    day = START + timedelta(days=INCIDENT_KINDS.index(kind) + 1)
    # The injected one is on its scenario day (night wandering: that day's early hours).
    return min(labels, key=lambda i: abs(i.start.astimezone(LONDON).date() - day))


def _events(
    stream: HomeStream, start: datetime, end: datetime, kind: MessageKind | None = None
) -> list[SimEvent]:
    return [
        e
        for e in stream.events
        if start <= e.true_at <= end and (kind is None or e.kind is kind) and not e.duplicate
    ]


def test_every_scenario_kind_is_labelled(stream: HomeStream) -> None:
    assert {i.kind for i in stream.incidents} >= set(INCIDENT_KINDS)
    for incident in stream.incidents:
        assert incident.start <= incident.end
        assert Incident.from_json_line(incident.to_json_line()) == incident


def test_alarm_pressed(stream: HomeStream) -> None:
    label = _label(stream, "alarm_pressed")
    alarms = _events(stream, label.start - SLACK, label.end + SLACK, MessageKind.ALARM)
    assert [(e.device_key, e.fields) for e in alarms] == [("pendant", {"button": "pendant"})]


def test_fall_then_no_movement_until_help_comes(stream: HomeStream) -> None:
    label = _label(stream, "fall")
    falls = _events(stream, label.start - SLACK, label.start + SLACK, MessageKind.FALL)
    assert len(falls) == 1 and falls[0].fields["confidence"] >= 0.85
    assert label.end - label.start >= timedelta(minutes=30)
    assert not _events(stream, label.start + SLACK, label.end - SLACK, MessageKind.MOTION)
    assert not _events(stream, label.start + SLACK, label.end - SLACK, MessageKind.CONTACT)
    assert not _events(stream, label.start, label.end, MessageKind.ALARM_CANCEL)
    # Help arrives through the front door (a carer's tap or a responder) when the fall ends.
    doors = _events(stream, label.end, label.end + timedelta(minutes=3), MessageKind.CONTACT)
    assert any(e.device_key == "door-front" and e.fields["open"] for e in doors)


def test_fall_cancelled_and_life_goes_on(stream: HomeStream) -> None:
    label = _label(stream, "fall_cancelled")
    fall = _events(stream, label.start - SLACK, label.start + SLACK, MessageKind.FALL)
    cancel = _events(stream, label.end - SLACK, label.end + SLACK, MessageKind.ALARM_CANCEL)
    assert len(fall) == 1 and len(cancel) == 1
    assert cancel[0].fields["cancels_seq"] == fall[0].seq and cancel[0].device_key == "wrist"
    assert _events(stream, label.end, label.end + timedelta(minutes=30), MessageKind.MOTION)


def test_inactivity_means_no_motion_at_home(stream: HomeStream) -> None:
    label = _label(stream, "inactivity")
    assert label.end - label.start >= timedelta(minutes=90)
    assert 9 <= label.start.astimezone(LONDON).hour <= 15
    assert not _events(stream, label.start + SLACK, label.end - SLACK, MessageKind.MOTION)
    doors = _events(stream, label.start + SLACK, label.end - SLACK, MessageKind.CONTACT)
    assert not [e for e in doors if e.device_key == "door-front"]  # at home all along
    assert _events(stream, label.end, label.end + timedelta(minutes=30), MessageKind.MOTION)


def _bed_state(stream: HomeStream, at: datetime) -> bool:
    changes = [e for e in stream.events if e.device_key == "bed-bedroom" and e.kind is MessageKind.OCCUPANCY]
    before = [e for e in sorted(changes, key=lambda e: e.true_at) if e.true_at <= at]
    return bool(before and before[-1].fields["occupied"])


def test_not_up_stays_in_bed_hours_past_the_usual_time(stream: HomeStream) -> None:
    label = _label(stream, "not_up")
    assert label.end - label.start >= timedelta(minutes=60)
    assert _bed_state(stream, label.start + SLACK)
    bed = [e for e in _events(stream, label.start, label.end - SLACK) if e.device_key == "bed-bedroom"]
    assert all(e.fields.get("occupied", True) for e in bed if e.kind is MessageKind.OCCUPANCY)
    got_up = _events(stream, label.end, label.end + timedelta(minutes=2), MessageKind.OCCUPANCY)
    assert any(e.device_key == "bed-bedroom" and not e.fields["occupied"] for e in got_up)


def test_night_wandering_opens_the_front_door_at_night(stream: HomeStream) -> None:
    label = _label(stream, "night_wandering")
    assert label.start.astimezone(LONDON).hour < 5
    doors = _events(stream, label.start, label.end, MessageKind.CONTACT)
    assert any(e.device_key == "door-front" and e.fields["open"] for e in doors)
    assert not _bed_state(stream, label.start + timedelta(minutes=1))
    assert _bed_state(stream, label.end + timedelta(minutes=5))


def test_bathroom_long(stream: HomeStream) -> None:
    label = _label(stream, "bathroom_long")
    assert label.end - label.start > timedelta(hours=1)
    motion = _events(stream, label.start + timedelta(minutes=2), label.end - SLACK, MessageKind.MOTION)
    assert motion and {e.device_key for e in motion} == {"motion-bathroom"}


def test_cold_home_reads_below_16_degrees(stream: HomeStream) -> None:
    label = _label(stream, "cold_home")
    assert label.end - label.start >= timedelta(hours=2)
    readings = _events(stream, label.start, label.end, MessageKind.TEMPERATURE)
    assert len(readings) >= 8 and all(e.fields["celsius"] < 16 for e in readings)
    week_before = _events(stream, label.start - timedelta(days=5), label.start - timedelta(days=1))
    assert all(e.fields["celsius"] >= 16 for e in week_before if e.kind is MessageKind.TEMPERATURE)


@pytest.mark.parametrize(("kind", "field"), [("water_leak", "leak"), ("smoke", "alarm")])
def test_water_leak_and_smoke(stream: HomeStream, kind: str, field: str) -> None:
    label = _label(stream, kind)
    events = [
        e for e in _events(stream, label.start - SLACK, label.end + SLACK) if e.device_key == label.device_key
    ]
    assert [e.fields for e in events if e.kind.value == kind] == [{field: True}, {field: False}]


def test_device_offline_stops_heartbeats(stream: HomeStream) -> None:
    label = _label(stream, "device_offline")
    key = label.device_key
    own = [e for e in stream.events if e.device_key == key]
    assert not [e for e in own if label.start <= e.true_at < label.end and e.kind is not MessageKind.PRESENCE]
    will = [e for e in own if e.kind is MessageKind.PRESENCE and e.fields["state"] == "offline"]
    assert any(label.start < e.publish_at < label.start + timedelta(minutes=3) for e in will)
    assert any(e.kind is MessageKind.HEARTBEAT and e.true_at < label.start for e in own)


def test_low_battery(stream: HomeStream) -> None:
    label = _label(stream, "low_battery")
    statuses = [e for e in stream.events if e.device_key == label.device_key and e.kind is MessageKind.STATUS]
    inside = [e for e in statuses if label.start - SLACK <= e.true_at < label.end]
    assert inside and abs(inside[0].true_at - label.start) < SLACK
    assert all(e.fields["battery"] < 15 for e in inside)
    assert all(e.fields["battery"] >= 15 for e in statuses if e.true_at < label.start - SLACK)


def test_missed_visit_has_no_tag(stream: HomeStream) -> None:
    label = _label(stream, "missed_visit")
    missed = [v for v in stream.visits if v.missed and v.planned_start == label.start]
    assert len(missed) == 1
    window = _events(
        stream, label.start - timedelta(minutes=30), label.end + timedelta(minutes=30), MessageKind.TAG
    )
    assert not [e for e in window if e.fields["tag_id"] == missed[0].tag_id]


def test_random_incidents_follow_the_rate() -> None:
    busy = simulate_home(seed=4, profile="frail", layout="bungalow", start=START, days=10, incident_rate=1.5)
    kinds = {i.kind for i in busy.incidents}
    assert len(busy.incidents) >= 8 and len(kinds) >= 6
    calm = simulate_home(seed=4, profile="active", layout="flat", start=START, days=10)
    assert {i.kind for i in calm.incidents} <= {"missed_visit"}  # only what happens by itself


def test_a_scenario_can_fix_time_length_and_device() -> None:
    scenario = [
        ScenarioItem("inactivity", 1, at=time(11, 0), duration_min=180),
        ScenarioItem("device_offline", 2, at=time(9, 30), duration_min=120, device_key="chair-lounge"),
    ]
    stream = simulate_home(
        seed=2, profile="active", layout="bungalow", start=START, days=3, scenario=scenario
    )
    labels = {i.kind: i for i in stream.incidents}
    still = labels["inactivity"].start.astimezone(LONDON)
    assert still.date() == START + timedelta(days=1) and time(11, 0) <= still.time() < time(15, 0)
    offline = labels["device_offline"]
    assert offline.device_key == "chair-lounge"
    assert offline.start.astimezone(LONDON).time() == time(9, 30)
    assert offline.end - offline.start == timedelta(minutes=120)


def test_bad_scenarios_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown incident kind"):
        simulate_home(
            seed=1, profile="active", layout="flat", start=START, days=2, scenario=[ScenarioItem("meteor", 0)]
        )
    with pytest.raises(ValueError, match="outside"):
        simulate_home(
            seed=1, profile="active", layout="flat", start=START, days=2, scenario=[ScenarioItem("fall", 5)]
        )
