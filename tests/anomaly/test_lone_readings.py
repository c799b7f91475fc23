"""One sensor's blip in a home that has been quiet for hours (anomaly/vacancy.py), and the front door
left open on coming home (anomaly/exits.py): hand-written streams from what the real homes showed."""

from __future__ import annotations

from anomaly.config import DetectorConfig
from tests.anomaly.streams import Home, at, cleared, raised

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
