"""The detector on habits real residents have and simulated ones lacked, on hand-written streams: a late
riser, few getting-up times seen, getting up judged by inference, a bathroom door shut from outside or
opened on the way out, and a day model that needs enough days to call a day unusual."""

from __future__ import annotations

from anomaly.config import DetectorConfig
from anomaly.state import Day
from tests.anomaly.streams import KIT, Home, at, raised

CFG = DetectorConfig(default_inactivity_s=2 * 3600, default_wake_min=10 * 60 + 30, default_bathroom_s=3600)
NO_BED = {k: v for k, v in KIT.items() if k != "bed"}
BATH_DOOR = {
    **KIT,
    "door-bathroom": ("door_contact", "bathroom", "door"),
    "flush": ("flush_sensor", "bathroom"),
}


def _days(home: Home, n: int = 15, wake: float | None = 7 * 60.0) -> list[Day]:
    days = []
    for index in range(n):
        day = Day(20_000 + index, wake=wake, bed=22 * 60.0)
        day.gaps = [-1.0] * 7 + [40.0] * 15 + [-1.0] * 2
        day.activity, day.bath_max = 300, 12.0
        days.append(day)
    home.state.baseline.days = days
    return days


def test_a_late_riser_getting_up_after_noon_is_learned_as_late() -> None:
    home = Home(CFG)
    home.send("bed", "occupancy", at(2, "23:30"), occupied=True)
    home.send("bed", "occupancy", at(3, "13:10"), occupied=False)  # in bed since the night
    home.motion("kitchen", at(3, "13:15"))
    home.tick(at(3, "13:16"), at(3, "14:30"))
    assert home.state.today.wake == 13 * 60 + 10


def test_getting_up_times_seen_later_than_the_default_are_no_lie_in() -> None:
    home = Home(CFG)
    days = _days(home, n=9, wake=None)
    for day in days[-3:]:
        day.wake = 11 * 60 + 30.0  # three late mornings seen, too few to learn from
    home.send("bed", "occupancy", at(2, "23:30"), occupied=True)
    assert raised(home.tick(at(3, "10:00"), at(3, "11:45")), "not_up") == []
    [alert] = raised(home.tick(at(3, "11:46"), at(3, "12:00")), "not_up")
    assert "the latest seen 11:30" in alert.signal.explanation


def test_not_getting_up_inferred_without_a_bed_sensor_waits_longer_than_a_bed_sensor() -> None:
    home = Home(CFG, kit=NO_BED)
    _days(home)  # up at 07:00 every day: a bed sensor's word would raise at 08:00
    home.motion("lounge", at(2, "22:40"))
    assert raised(home.tick(at(2, "22:41"), at(3, "08:35"), step=300), "not_up") == []
    [alert] = raised(home.tick(at(3, "08:36"), at(3, "09:00")), "not_up")
    assert "Inferred" in alert.signal.explanation


def test_the_bathroom_door_shut_from_outside_is_no_bathroom_stay() -> None:
    home = Home(CFG, kit=BATH_DOOR)
    home.motion("hallway", at(2, "16:25"))
    home.send("door-bathroom", "contact", at(2, "16:25", 48), open=False)  # shut in passing
    assert home.state.bath_since is None
    assert raised(home.tick(at(2, "16:26"), at(2, "18:00")), "bathroom_too_long") == []


def test_opening_the_shut_bathroom_door_is_leaving_however_soon() -> None:
    home = Home(CFG, kit=BATH_DOOR)
    home.send("door-bathroom", "contact", at(2, "17:13", 53), open=True)
    home.send("door-bathroom", "contact", at(2, "17:13", 54), open=False)
    home.send("flush", "flush", at(2, "17:15", 10))
    home.send("door-bathroom", "contact", at(2, "17:15", 12), open=True)  # out, to a room without sensors
    assert home.state.bath_since is None
    assert raised(home.tick(at(2, "17:16"), at(2, "19:00")), "bathroom_too_long") == []
    home.motion("bathroom", at(2, "19:10"))  # movement inside starts a new stay
    assert home.state.bath_since == at(2, "19:10")


def test_the_day_model_waits_for_enough_days_to_call_a_day_unusual() -> None:
    home = Home(DetectorConfig(min_history_days=7, day_model_min_days=14))
    _days(home, n=10)
    home.detector.training_due.add(home.home_id)
    assert home.detector.train_due(5) == []
    _days(home, n=14)
    home.detector.training_due.add(home.home_id)
    assert len(home.detector.train_due(5)) == 1


CHAIR = {**KIT, "chair": ("chair_sensor", "lounge")}


def test_a_chair_press_after_leaving_by_the_front_door_is_not_coming_home() -> None:
    home = Home(CFG, kit=CHAIR)
    home.send("bed", "occupancy", at(2, "07:00"), occupied=False)
    home.motion("hallway", at(2, "07:46"))
    home.send("door-front", "contact", at(2, "07:47"), open=True)
    home.send("door-front", "contact", at(2, "07:47", 20), open=False)
    home.send("chair", "occupancy", at(2, "09:25"), occupied=True)  # a cushion settling while out
    assert raised(home.tick(at(2, "09:26"), at(2, "14:00")), "inactivity") == []
    home.send("door-front", "contact", at(2, "17:40"), open=True)  # home again
    home.motion("hallway", at(2, "17:41"))
    assert raised(home.tick(at(2, "17:42"), at(2, "20:30")), "inactivity")


def test_asleep_on_the_sofa_at_night_is_sleep_not_a_long_sit() -> None:
    home = Home(CFG, kit=CHAIR)
    home.send("bed", "occupancy", at(2, "07:00"), occupied=False)
    home.motion("lounge", at(3, "01:05"))
    home.send("chair", "occupancy", at(3, "01:09"), occupied=True)
    assert raised(home.tick(at(3, "01:10"), at(3, "06:00"), step=300), "inactivity") == []


def test_a_sit_is_never_judged_sooner_than_the_homes_ordinary_quiet() -> None:
    home = Home(CFG, kit=CHAIR)
    for day in _days(home):
        day.gaps[8:11] = [-1.0] * 3  # rarely up at home around 09:00: the cautious 2 h applies
        day.sit_gaps[8:11] = [30.0] * 3  # and the few sits seen then were short
    home.send("bed", "occupancy", at(2, "07:00"), occupied=False)
    home.motion("lounge", at(2, "09:24"))
    home.send("chair", "occupancy", at(2, "09:25"), occupied=True)
    assert raised(home.tick(at(2, "09:26"), at(2, "11:20")), "inactivity") == []
    assert raised(home.tick(at(2, "11:21"), at(2, "11:40")), "inactivity")


def test_without_a_bed_sensor_back_inside_soon_after_a_night_exit_lets_the_next_one_raise() -> None:
    home = Home(CFG, kit=NO_BED)
    home.motion("lounge", at(2, "22:30"))
    home.send("door-front", "contact", at(3, "00:52"), open=True)
    home.send("door-front", "contact", at(3, "00:52", 20), open=False)
    home.motion("bathroom", at(3, "00:55"))  # inside again three minutes later
    home.tick(at(3, "00:56"), at(3, "01:50"))
    out = home.send("door-front", "contact", at(3, "01:51"), open=True)
    assert raised(out, "night_wandering")
