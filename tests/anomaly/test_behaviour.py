"""Learned-behaviour detectors on hand-written streams, on a new home's cautious defaults: inactivity
(not while in bed, out, or with a carer), not up, night wandering, bathroom; clock skew, late readings."""

from __future__ import annotations

from anomaly.config import DetectorConfig
from tests.anomaly.streams import Home, at, cleared, raised

CFG = DetectorConfig(default_inactivity_s=2 * 3600, default_wake_min=10 * 60 + 30, default_bathroom_s=3600)


def _up_in_the_morning(home: Home, day: int = 2) -> None:
    home.send("bed", "occupancy", at(day - 1, "22:30"), occupied=True)
    home.send("bed", "occupancy", at(day, "07:00"), occupied=False)
    home.motion("kitchen", at(day, "07:05"))


def test_a_quiet_home_raises_inactivity_with_its_evidence_and_movement_clears_it() -> None:
    home = Home(CFG)
    _up_in_the_morning(home)
    home.motion("lounge", at(2, "09:12"))
    assert raised(home.tick(at(2, "09:13"), at(2, "11:10")), "inactivity") == []
    [alert] = raised(home.tick(at(2, "11:11"), at(2, "12:00")), "inactivity")
    text = alert.signal.explanation
    assert "since 09:12" in text and "lounge" in text and "cautious default" in text
    assert alert.signal.triggered_at.timestamp() == at(2, "11:12")
    assert raised(home.tick(at(2, "12:01"), at(2, "12:30")), "inactivity") == []  # one alert, not repeated
    [done] = cleared(home.motion("kitchen", at(2, "12:40")), "inactivity")
    assert "movement resumed at 12:40" in done.note


def test_asleep_in_bed_is_not_inactivity() -> None:
    home = Home(CFG)
    home.send("bed", "occupancy", at(2, "21:30"), occupied=True)
    assert raised(home.tick(at(2, "21:31"), at(3, "06:30"), step=300), "inactivity") == []


def test_out_of_the_house_is_not_inactivity() -> None:
    home = Home(CFG)
    _up_in_the_morning(home)
    home.motion("hallway", at(2, "10:00"))
    home.send("door-front", "contact", at(2, "10:00", 20), open=True)
    home.send("door-front", "contact", at(2, "10:00", 30), open=False)
    assert raised(home.tick(at(2, "10:01"), at(2, "15:00")), "inactivity") == []
    home.send("door-front", "contact", at(2, "15:10"), open=True)
    home.motion("hallway", at(2, "15:11"))
    assert not home.state.is_out(at(2, "15:12"), 45)


def test_a_carer_present_suppresses_what_their_presence_would_cause() -> None:
    home = Home(CFG)
    _up_in_the_morning(home)
    home.send("reader", "tag", at(2, "09:00"), tag_id="CARER-1")
    home.send("door-front", "contact", at(2, "09:00", 20), open=True)
    home.motion("bathroom", at(2, "09:05"))
    assert raised(home.tick(at(2, "09:06"), at(2, "10:30")), "bathroom_too_long") == []
    home.send("reader", "tag", at(2, "10:30"), tag_id="CARER-1")  # checks out
    home.send("door-front", "contact", at(2, "10:30", 20), open=True)  # the carer leaving, not going out
    assert home.state.door_at is None
    assert home.state.today.rooms.get("bathroom", 0) == 0  # left out of the resident's baseline


def test_not_up_by_the_usual_time_then_cleared_when_out_of_bed() -> None:
    home = Home(CFG)
    home.send("bed", "occupancy", at(2, "22:00"), occupied=True)
    assert raised(home.tick(at(3, "04:00"), at(3, "10:29")), "not_up") == []
    [alert] = raised(home.tick(at(3, "10:30"), at(3, "10:40")), "not_up")
    assert "Still in bed at 10:30" in alert.signal.explanation
    [done] = cleared(home.send("bed", "occupancy", at(3, "11:02"), occupied=False), "not_up")
    assert done.note == "out of bed at 11:02"


def test_the_front_door_at_night_is_night_wandering_until_back_in_bed() -> None:
    home = Home(CFG)
    home.send("bed", "occupancy", at(2, "22:00"), occupied=True)
    home.send("bed", "occupancy", at(3, "02:10"), occupied=False)
    home.motion("hallway", at(3, "02:12"))
    [alert] = raised(home.send("door-front", "contact", at(3, "02:13"), open=True), "night_wandering")
    assert "02:13" in alert.signal.explanation
    assert raised(home.send("door-front", "contact", at(3, "02:14"), open=False)) == []
    [done] = cleared(home.send("bed", "occupancy", at(3, "02:40"), occupied=True), "night_wandering")
    assert done.note == "back in bed at 02:40"


def test_too_long_in_the_bathroom_clears_when_they_come_out() -> None:
    home = Home(CFG)
    _up_in_the_morning(home)
    home.motion("bathroom", at(2, "14:00"))
    for minute in range(5, 70, 10):
        home.motion("bathroom", at(2, f"14:{minute:02d}") if minute < 60 else at(2, f"15:{minute - 60:02d}"))
    [alert] = raised(home.tick(at(2, "14:01"), at(2, "15:10")), "bathroom_too_long")
    assert alert.signal.triggered_at.timestamp() == at(2, "15:00")
    assert cleared(home.motion("lounge", at(2, "15:20")), "bathroom_too_long")


def test_a_late_reading_does_not_move_the_last_movement_back_nor_clear_wrongly() -> None:
    home = Home(CFG)
    _up_in_the_morning(home)
    home.motion("kitchen", at(2, "09:00"))
    home.tick(at(2, "09:00"), at(2, "11:30"))
    assert raised(home.actions, "inactivity")
    # A reading from 08:55 delivered late, at 11:31: no new movement, so the alert stays open.
    assert home.send("motion-lounge", "motion", at(2, "08:55"), received=at(2, "11:31"), detected=True) == []
    assert home.state.last_act == at(2, "09:00")
    # A late reading from after the quiet began does show movement: the alert clears.
    assert cleared(
        home.send("motion-lounge", "motion", at(2, "11:20"), received=at(2, "11:32"), detected=True)
    )


def test_a_clock_suspect_reading_is_timed_by_its_arrival() -> None:
    home = Home(CFG)
    _up_in_the_morning(home)
    home.send(
        "motion-kitchen", "motion", at(2, "20:00"), received=at(2, "09:00"), suspect=True, detected=True
    )
    assert home.state.last_act == at(2, "09:00")
    assert raised(home.tick(at(2, "10:00"), at(2, "10:59")), "inactivity") == []
    assert raised(home.tick(at(2, "11:00"), at(2, "11:05")), "inactivity")
