"""Learning a home's normal: thresholds from its own days, false-alarm feedback, the day model, and the
state's checkpoint round trip."""

from __future__ import annotations

import random

from anomaly import baseline
from anomaly.config import DetectorConfig
from anomaly.daymodel import DayModel, train
from anomaly.state import Baseline, Day, dump_baseline, dump_live, load_state
from tests.anomaly.streams import Home, at, raised

CFG = DetectorConfig(min_history_days=14)


def _days(n: int, *, quiet: float = 40.0, wake: float = 7 * 60, seed: int = 1) -> list[Day]:
    rng = random.Random(seed)
    out = []
    for index in range(n):
        day = Day(20_000 + index, wake=wake + rng.uniform(-20, 20), bed=22 * 60 + rng.uniform(-20, 20))
        day.gaps = [-1.0] * 7 + [quiet * rng.uniform(0.6, 1.0)] * 15 + [-1.0] * 2
        day.meals, day.night_toilet, day.activity = 3, rng.randint(0, 1), 400 + rng.randint(-30, 30)
        day.rooms = {"kitchen": 80 + rng.randint(-10, 10), "lounge": 150 + rng.randint(-15, 15)}
        day.bath_max = 15 + rng.uniform(-5, 5)
        out.append(day)
    return out


def test_thresholds_come_from_the_homes_own_days_with_evidence() -> None:
    learned = Baseline(days=_days(28))
    quiet = baseline.inactivity(learned, CFG, 10)
    assert quiet.learned and 45 * 60 <= quiet.value <= 80 * 60
    assert "of the last 28 days" in quiet.evidence
    wake = baseline.wake(learned, CFG, weekend=False)
    assert wake.learned and 7 * 60 + 20 <= wake.value <= 8 * 60 + 30
    assert baseline.bathroom(learned, CFG).value <= 45 * 60


def test_quiet_learned_from_the_few_days_at_home_at_an_hour_usually_spent_out() -> None:
    # Out at work around 14:00 on most days; home on six of them, never quiet there for more than 40 min.
    days = _days(28)
    for index, day in enumerate(days):
        day.gaps[13:16] = [40.0 * (0.6 + index % 5 / 10)] * 3 if index % 5 == 0 else [-1.0] * 3
    quiet = baseline.inactivity(Baseline(days=days), CFG, 14)
    assert quiet.learned and quiet.value <= 80 * 60  # not the cautious 2.5 h of a home never seen then
    days[0].gaps[13:16] = [-1.0] * 3  # five days at home: still enough to learn from
    assert baseline.inactivity(Baseline(days=days), CFG, 14).learned
    days[5].gaps[13:16] = [-1.0] * 3
    assert not baseline.inactivity(Baseline(days=days), CFG, 14).learned


def test_a_new_home_uses_cautious_defaults_and_says_so() -> None:
    young = Baseline(days=_days(5))
    quiet = baseline.inactivity(young, CFG, 10)
    assert not quiet.learned and quiet.value == CFG.default_inactivity_s
    assert "5 days of history" in quiet.evidence and "cautious default" in quiet.evidence


def test_false_alarms_make_the_home_less_eager() -> None:
    home = Home(CFG)
    home.state.baseline.days = _days(28)
    before = baseline.inactivity(home.state.baseline, CFG, 10).value
    home.detector.false_alarm(home.home_id, "inactivity", "alert-1")
    home.detector.false_alarm(home.home_id, "inactivity", "alert-1")  # the same alert counts once
    after = baseline.inactivity(home.state.baseline, CFG, 10).value
    assert after > before
    assert home.state.baseline.false_alarms == {"inactivity": 1}


def test_the_day_model_flags_a_day_unlike_the_others_and_explains_it() -> None:
    model = train(_days(28), version=3, trained_day=20_028, margin=0.02)
    normal = _days(1, seed=99)[0]
    odd = Day(20_030, wake=11 * 60 + 40, bed=19 * 60, meals=0, night_toilet=5, activity=90)
    odd.gaps = [-1.0] * 11 + [200.0] * 9 + [-1.0] * 4
    odd.rooms = {"kitchen": 5, "lounge": 20}
    assert model.score(normal)[0] >= model.threshold
    assert model.score(odd)[0] < model.threshold
    again = DayModel.from_bytes(model.to_bytes())
    assert again.version == 3 and again.score(odd)[0] == model.score(odd)[0]


def test_the_detector_trains_on_schedule_and_reports_an_unusual_day() -> None:
    home = Home(CFG)
    home.state.baseline.days = _days(28)
    home.state.today = Day(home.detector.clocks[home.home_id].day(at(2, "12:00"), 240))
    home.state.today.activity = 5  # a nearly silent day
    home.detector.training_due.add(home.home_id)
    [(home_id, model)] = home.detector.train_due(5)
    assert home_id == home.home_id and model.version == 1 and home.state.baseline.model_version == 1
    [alert] = raised(home.tick(at(3, "04:01"), at(3, "04:02")), "unusual_day")
    assert "unlike this person's normal days" in alert.signal.explanation
    assert "version 1" in alert.signal.explanation


def test_the_state_survives_its_checkpoint() -> None:
    home = Home(CFG)
    home.send("bed", "occupancy", at(2, "22:00"), occupied=True)
    home.send("reader", "tag", at(2, "21:00"), tag_id="CARER-2")
    home.state.baseline.days = _days(3)
    home.state.open["inactivity"] = at(2, "12:00")
    back = load_state(home.home_id, dump_live(home.state), dump_baseline(home.state.baseline))
    assert back.in_bed and back.carer_tags == {"CARER-2": at(2, "21:00")}
    assert back.open == {"inactivity": at(2, "12:00")}
    assert back.baseline.days == home.state.baseline.days
    assert back.today == home.state.today
