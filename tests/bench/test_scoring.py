"""Scoring: another incident excuses an alert only when it can cause it (the device, the room)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

from bench.evaluation.evaluation import AlertRecord, HomeRun, device_id
from bench.evaluation.scoring import KindScore, score_run
from simulators.layouts import DeviceSpec
from simulators.model import Incident

HOME = "home-1"
T0 = datetime(2025, 2, 3, 11, 0, tzinfo=UTC)
KIT = {
    d.key: d
    for d in (
        DeviceSpec("plug-microwave", "smart_plug", "kitchen"),
        DeviceSpec("motion-lounge", "motion_sensor", "lounge"),
        DeviceSpec("motion-bathroom", "motion_sensor", "bathroom"),
        DeviceSpec("bed", "bed_sensor", "bedroom"),
        DeviceSpec("wrist", "wrist_wearable", ""),
    )
}


def _incident(kind: str, device_key: str | None = None, detail: str = "") -> Incident:
    return Incident(HOME, kind, T0, T0 + timedelta(hours=3), device_key, detail)


def _alert(kind: str, device_key: str | None = None) -> AlertRecord:
    key = f"{kind}:{device_id(HOME, device_key)}" if device_key else kind
    at = (T0 + timedelta(hours=1)).timestamp()
    return AlertRecord(HOME, kind, key, at, at, [{}])


def _score(alert: AlertRecord, *incidents: Incident) -> KindScore:
    run = HomeRun(HOME, "frail", alerts=[alert], incidents=list(incidents), devices=KIT)
    scores: dict[str, KindScore] = defaultdict(KindScore)
    score_run(run, T0.timestamp() - 86400, scores)
    return scores[alert.kind]


def test_a_smart_plug_going_offline_excuses_no_inactivity_alert() -> None:
    score = _score(_alert("inactivity"), _incident("device_offline", "plug-microwave"))
    assert (score.explained, score.false_alerts) == (0, 1)


def test_an_offline_motion_sensor_excuses_inactivity_in_the_home() -> None:
    score = _score(_alert("inactivity"), _incident("device_offline", "motion-lounge"))
    assert (score.explained, score.false_alerts) == (1, 0)


def test_an_offline_device_excuses_only_what_rests_on_its_data() -> None:
    # Leaving the bathroom is seen by another room's motion: the bathroom's own sensor going quiet
    # cannot keep a bathroom stay open, a lounge sensor can; only the bed sensor keeps "in bed".
    bathroom = _score(_alert("bathroom_too_long"), _incident("device_offline", "motion-bathroom"))
    lounge = _score(_alert("bathroom_too_long"), _incident("device_offline", "motion-lounge"))
    not_up_by_motion = _score(_alert("not_up"), _incident("device_offline", "motion-lounge"))
    not_up_by_bed = _score(_alert("not_up"), _incident("device_offline", "bed"))
    assert (bathroom.false_alerts, lounge.explained) == (1, 1)
    assert (not_up_by_motion.false_alerts, not_up_by_bed.explained) == (1, 1)


def test_a_fall_excuses_a_long_bathroom_stay_only_in_the_bathroom() -> None:
    in_bathroom = _score(_alert("bathroom_too_long"), _incident("fall", "wrist", "bathroom"))
    in_lounge = _score(_alert("bathroom_too_long"), _incident("fall", "wrist", "lounge"))
    quiet = _score(_alert("inactivity"), _incident("fall", "wrist", "lounge"))
    assert (in_bathroom.explained, in_lounge.false_alerts, quiet.explained) == (1, 1, 1)


def test_a_device_alert_answers_only_its_own_device() -> None:
    # An offline alert for the bed while the lounge sensor is the one offline is a false alarm,
    # and it does not catch the lounge sensor's label.
    wrong = _score(_alert("device_offline", "bed"), _incident("device_offline", "motion-lounge"))
    right = _score(_alert("device_offline", "motion-lounge"), _incident("device_offline", "motion-lounge"))
    assert (wrong.true_alerts, wrong.false_alerts, wrong.labels, wrong.caught) == (0, 1, 1, 0)
    assert (right.true_alerts, right.caught) == (1, 1)


def test_a_low_battery_excuses_only_its_own_device_going_offline() -> None:
    own = _score(_alert("device_offline", "motion-lounge"), _incident("low_battery", "motion-lounge"))
    other = _score(_alert("device_offline", "bed"), _incident("low_battery", "motion-lounge"))
    assert (own.explained, other.false_alerts) == (1, 1)
