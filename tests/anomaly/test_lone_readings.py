"""One sensor's blip in a home that has been quiet for hours (anomaly/vacancy.py), and the front door
left open on coming home and the door opened at night by someone already up (anomaly/exits.py):
hand-written streams from what the real homes showed."""

from __future__ import annotations

from anomaly.config import DetectorConfig
from anomaly.state import Day
from tests.anomaly.streams import KIT, Home, at, cleared, raised

CFG = DetectorConfig(default_inactivity_s=2 * 3600, default_bathroom_s=3600)


def test_one_sensor_blip_in_a_home_quiet_for_hours_starts_no_bathroom_stay() -> None:
    home = Home(CFG)
    home.motion("kitchen", at(2, "08:00"))
    home.motion("bathroom", at(2, "16:00"))  # a motion sensor in sunlight, in a home left since 08:00
    assert home.state.bath_since is None
    assert raised(home.tick(at(2, "16:01"), at(2, "18:30")), "bathroom_too_long") == []
    assert home.state.today.lone == 1


def test_a_second_sensor_within_minutes_is_someone_home_and_the_stay_is_judged() -> None:
    home = Home(CFG)
    home.motion("kitchen", at(2, "08:00"))
    home.motion("hallway", at(2, "16:00"))
    home.motion("bathroom", at(2, "16:02"))
    assert home.state.bath_since == at(2, "16:02")
    assert raised(home.tick(at(2, "16:03"), at(2, "17:10")), "bathroom_too_long")


def test_the_same_sensor_firing_again_and_again_is_someone_there() -> None:
    home = Home(CFG)
    home.motion("kitchen", at(2, "08:00"))
    for hhmm in ("16:00", "16:01", "16:03"):
        home.motion("kitchen", at(2, hhmm))
    assert home.state.last_act == at(2, "16:03")


def test_a_blip_neither_clears_a_silence_alert_nor_hides_the_silence() -> None:
    home = Home(CFG)
    home.motion("lounge", at(2, "09:00"))
    assert raised(home.tick(at(2, "09:01"), at(2, "11:30")), "inactivity")
    assert cleared(home.motion("kitchen", at(2, "15:30")), "inactivity") == []
    assert home.state.last_act == at(2, "09:00")
    [done] = cleared(home.motion("hallway", at(2, "15:33")), "inactivity")
    assert "15:33" in done.note


def test_a_home_with_one_activity_sensor_takes_its_every_reading() -> None:
    home = Home(CFG, kit={"motion-lounge": ("motion_sensor", "lounge")})
    home.motion("lounge", at(2, "08:00"))
    home.motion("lounge", at(2, "16:00"))
    assert home.state.last_act == at(2, "16:00")


def test_closing_the_front_door_left_open_on_coming_home_is_not_a_night_exit() -> None:
    home = Home(CFG)
    home.motion("hallway", at(2, "19:00"))
    home.send("door-front", "contact", at(2, "19:00", 30), open=True)  # out for the evening
    home.send("door-front", "contact", at(2, "19:00", 50), open=False)
    home.send("door-front", "contact", at(2, "23:40"), open=True)  # home, and the door left open
    home.motion("hallway", at(2, "23:41"))
    home.motion("kitchen", at(2, "23:44"))
    assert raised(home.send("door-front", "contact", at(2, "23:52"), open=False), "night_wandering") == []
    home.send("bed", "occupancy", at(3, "00:10"), occupied=True)
    home.send("bed", "occupancy", at(3, "02:28"), occupied=False)
    home.motion("hallway", at(3, "02:30"))
    assert raised(home.send("door-front", "contact", at(3, "02:30", 20), open=True), "night_wandering")


CHAIR = {**KIT, "chair": ("chair_sensor", "lounge")}


def _up_late(home: Home) -> None:
    """A late sleeper (usually in bed by 01:00 to 01:30), in the armchair since 23:30, not gone to bed."""
    home.state.baseline.days = [Day(20_000 + i, bed=1500.0 + i % 4 * 10, activity=300) for i in range(14)]
    home.motion("lounge", at(2, "23:29"))
    home.send("chair", "occupancy", at(2, "23:30"), occupied=True)


def test_someone_in_the_armchair_late_who_answers_the_door_and_stays_in_is_no_night_exit() -> None:
    home = Home(CFG, kit=CHAIR)
    _up_late(home)
    assert raised(home.send("door-front", "contact", at(3, "00:52"), open=True), "night_wandering") == []
    home.send("door-front", "contact", at(3, "00:52", 20), open=False)
    home.motion("hallway", at(3, "00:57"))  # back inside: a neighbour at the door, the bins put out
    assert raised(home.tick(at(3, "00:58"), at(3, "01:30")), "night_wandering") == []


def test_someone_in_the_armchair_late_who_goes_out_and_is_not_seen_inside_is_reported_minutes_later() -> None:
    home = Home(CFG, kit=CHAIR)
    _up_late(home)
    assert raised(home.send("door-front", "contact", at(3, "00:52"), open=True), "night_wandering") == []
    home.send("door-front", "contact", at(3, "00:52", 20), open=False)
    [alert] = raised(home.tick(at(3, "00:53"), at(3, "01:10")), "night_wandering")
    assert alert.signal.triggered_at.timestamp() == at(3, "00:52")
    assert "may have gone out" in alert.signal.explanation


def test_the_door_straight_from_bed_at_night_is_reported_at_once() -> None:
    home = Home(CFG, kit=CHAIR)
    _up_late(home)
    home.send("chair", "occupancy", at(3, "00:59"), occupied=False)
    home.send("bed", "occupancy", at(3, "01:00"), occupied=True)
    home.send("bed", "occupancy", at(3, "03:00"), occupied=False)
    home.motion("hallway", at(3, "03:02"))
    assert raised(home.send("door-front", "contact", at(3, "03:03"), open=True), "night_wandering")


def test_back_in_the_armchair_after_going_to_bed_the_door_at_night_is_reported_at_once() -> None:
    home = Home(CFG, kit=CHAIR)
    _up_late(home)
    home.send("chair", "occupancy", at(2, "23:40"), occupied=False)
    home.send("bed", "occupancy", at(2, "23:45"), occupied=True)
    home.tick(at(2, "23:46"), at(3, "00:50"))  # an hour in bed: gone to bed for the night
    home.send("bed", "occupancy", at(3, "00:55"), occupied=False)
    home.motion("lounge", at(3, "00:56"))
    home.send("chair", "occupancy", at(3, "00:57"), occupied=True)
    assert raised(home.send("door-front", "contact", at(3, "01:10"), open=True), "night_wandering")


def test_the_door_past_the_residents_own_bedtime_is_reported_at_once_even_from_the_armchair() -> None:
    home = Home(CFG, kit=CHAIR)
    _up_late(home)
    assert raised(home.send("door-front", "contact", at(3, "02:32"), open=True), "night_wandering")
