"""The detector in real homes' kits, on hand-written streams: no bed sensor, two bed mats, a chair mat,
no motion sensor in a room, event-only sensors, and learning that rare night exits do not make normal."""

from __future__ import annotations

from anomaly.config import DetectorConfig
from anomaly.model import Action
from anomaly.state import Day
from tests.anomaly.streams import KIT, Home, at, cleared, raised

CFG = DetectorConfig(default_inactivity_s=2 * 3600, default_wake_min=10 * 60 + 30, default_bathroom_s=3600)
NO_BED = {k: v for k, v in KIT.items() if k != "bed"}
TWO_MATS = {**KIT, "bed-left": ("bed_sensor", "bedroom"), "chair": ("chair_sensor", "lounge")}


def _learned_days(home: Home, n: int = 15) -> list[Day]:
    days = []
    for index in range(n):
        day = Day(20_000 + index, wake=7 * 60.0, bed=22 * 60.0)
        day.gaps = [-1.0] * 7 + [40.0] * 15 + [-1.0] * 2
        day.activity, day.bath_max = 300, 12.0
        days.append(day)
    home.state.baseline.days = days
    return days


def _night_exit(home: Home, day: int, hhmm: str) -> list[Action]:
    home.motion("hallway", at(day, hhmm))
    out = home.send("door-front", "contact", at(day, hhmm, 20), open=True)
    home.send("door-front", "contact", at(day, hhmm, 40), open=False)
    return out


def test_without_a_bed_sensor_a_night_exit_alert_clears_and_the_next_night_is_caught() -> None:
    home = Home(CFG, kit=NO_BED)
    home.motion("lounge", at(2, "22:30"))
    assert raised(_night_exit(home, 3, "02:10"), "night_wandering")
    home.send("door-front", "contact", at(3, "02:25"), open=True)  # back in
    home.send("door-front", "contact", at(3, "02:25", 20), open=False)
    [done] = cleared(home.motion("hallway", at(3, "02:27")), "night_wandering")
    assert "movement inside at 02:27" in done.note
    home.tick(at(3, "02:27"), at(3, "03:30"))
    assert raised(_night_exit(home, 4, "02:40"), "night_wandering")


def test_two_rare_night_exits_in_the_learned_nights_do_not_make_the_door_at_night_normal() -> None:
    home = Home(CFG)
    days = _learned_days(home)
    days[3].door_hours[2] = 1
    days[9].door_hours[2] = 1
    home.send("bed", "occupancy", at(2, "22:00"), occupied=True)
    home.send("bed", "occupancy", at(3, "02:10"), occupied=False)
    [alert] = raised(_night_exit(home, 3, "02:12"), "night_wandering")
    assert "on 2 of the last 15 nights" in alert.signal.explanation


def test_a_night_exit_someone_confirmed_is_never_learned_as_normal() -> None:
    home = Home(CFG)
    days = _learned_days(home)
    for index in (1, 4, 7, 10):  # four nights with an exit, each confirmed by a person
        days[index].door_hours[2] = 1
        days[index].door_confirmed[2] = 1
    home.send("bed", "occupancy", at(2, "22:00"), occupied=True)
    home.send("bed", "occupancy", at(3, "02:10"), occupied=False)
    [alert] = raised(_night_exit(home, 3, "02:12"), "night_wandering")
    home.detector.confirmed(home.home_id, "night_wandering", alert.signal.triggered_at.timestamp(), "a-1")
    assert home.state.today.door_confirmed[2] == 1


def test_coming_home_late_is_not_a_night_exit() -> None:
    home = Home(CFG)
    home.motion("hallway", at(2, "19:00"))
    home.send("door-front", "contact", at(2, "19:00", 30), open=True)  # out for the evening
    home.send("door-front", "contact", at(2, "19:00", 50), open=False)
    assert raised(home.send("door-front", "contact", at(2, "23:50"), open=True), "night_wandering") == []
    assert raised(home.send("door-front", "contact", at(2, "23:50", 20), open=False), "night_wandering") == []
    home.motion("hallway", at(2, "23:51"))
    assert raised(_night_exit(home, 3, "02:30"), "night_wandering")


def test_the_bathroom_door_used_well_after_going_in_ends_the_stay() -> None:
    kit = {**KIT, "door-bathroom": ("door_contact", "bathroom", "door")}
    home = Home(CFG, kit=kit)
    home.send("door-bathroom", "contact", at(2, "10:00"), open=True)
    home.send("door-bathroom", "contact", at(2, "10:00", 10), open=False)
    home.motion("bathroom", at(2, "10:01"))
    home.send("door-bathroom", "contact", at(2, "10:08"), open=True)  # leaving, to a room without sensors
    home.send("door-bathroom", "contact", at(2, "10:08", 10), open=False)
    assert home.state.bath_since is None
    assert raised(home.tick(at(2, "10:09"), at(2, "11:30")), "bathroom_too_long") == []


def test_going_to_bed_onto_the_mat_ends_a_bathroom_stay() -> None:
    home = Home(CFG)
    home.send("bed", "occupancy", at(2, "07:00"), occupied=False)
    home.motion("bathroom", at(2, "22:00"))
    home.send("bed", "occupancy", at(2, "22:10"), occupied=True)
    assert home.state.bath_since is None
    home.send("bed", "occupancy", at(3, "07:00"), occupied=False)
    assert raised(home.tick(at(3, "07:01"), at(3, "09:00")), "bathroom_too_long") == []
    assert home.state.baseline.days[-1].bath_max <= 11


def test_a_door_elsewhere_ends_a_bathroom_stay() -> None:
    kit = {**KIT, "door-bedroom": ("door_contact", "bedroom")}
    home = Home(CFG, kit=kit)
    home.motion("bathroom", at(2, "10:00"))
    home.send("door-bedroom", "contact", at(2, "10:05"), open=True)
    assert raised(home.tick(at(2, "10:06"), at(2, "11:30")), "bathroom_too_long") == []


def test_an_occupied_chair_mat_is_someone_there_not_a_silent_home() -> None:
    home = Home(CFG, kit=TWO_MATS)
    home.send("bed", "occupancy", at(2, "07:00"), occupied=False)
    home.motion("lounge", at(2, "20:05"))
    home.send("chair", "occupancy", at(2, "20:10"), occupied=True)
    # Two hours of television: no inactivity (the default limit is 2 h).
    assert raised(home.tick(at(2, "20:11"), at(2, "22:40")), "inactivity") == []
    # A very long sit is worth a milder alert, saying it is a sit.
    [alert] = raised(home.tick(at(2, "22:41"), at(2, "23:30")), "inactivity")
    assert alert.signal.severity == "medium" and "chair mat is occupied" in alert.signal.explanation
    home.send("chair", "occupancy", at(2, "23:40"), occupied=False)
    assert home.state.today.sit_gaps[21] > 200 and home.state.today.gaps[21] < 0  # learned apart


def test_two_bed_mats_one_side_empty_is_still_in_bed() -> None:
    home = Home(CFG, kit=TWO_MATS)
    home.send("bed", "occupancy", at(2, "22:00"), occupied=True)
    home.send("bed-left", "occupancy", at(2, "23:00"), occupied=True)
    home.send("bed", "occupancy", at(3, "01:00"), occupied=False)  # rolled over to the left side
    assert home.state.in_bed
    assert raised(home.tick(at(3, "01:01"), at(3, "06:00"), step=300), "inactivity") == []


def test_without_a_bed_sensor_the_night_quiet_is_sleep_not_inactivity() -> None:
    home = Home(CFG, kit=NO_BED)
    home.motion("kitchen", at(2, "18:00"))
    home.motion("lounge", at(2, "22:40"))
    assert raised(home.tick(at(2, "22:41"), at(3, "07:30"), step=300), "inactivity") == []
    for minute in ("07:35", "07:40", "07:50"):
        home.motion("kitchen", at(3, minute))
    assert home.state.up_today and home.state.today.wake == 7 * 60 + 35


def test_without_a_bed_sensor_not_getting_up_is_inferred_and_says_so() -> None:
    home = Home(CFG, kit=NO_BED)
    home.motion("lounge", at(2, "22:40"))
    [alert] = raised(home.tick(at(2, "22:41"), at(3, "11:00"), step=300), "not_up")
    assert "inferred" in alert.signal.explanation and "no bed sensor" in alert.signal.explanation
    assert alert.signal.evidence[0]["inferred"] is True
    assert cleared(home.motion("kitchen", at(3, "11:10")), "not_up")


def test_the_detector_says_what_it_cannot_judge_with_the_kit() -> None:
    kit = {
        "door-bathroom": ("door_contact", "bathroom", "door"),
        "fridge": ("door_contact", "kitchen", "activity"),
        "motion-kitchen": ("motion_sensor", "kitchen"),
    }
    home = Home(CFG, kit=kit)
    notes = " | ".join(home.detector.kit_notes(home.home_id))
    assert "no bed sensor" in notes and "no front door contact" in notes
    assert "no motion sensor in bathroom" in notes
    home.motion("kitchen", at(2, "09:00"))
    [alert] = raised(home.tick(at(2, "09:01"), at(2, "11:30")), "inactivity")
    assert "Not covered by a motion sensor: bathroom" in alert.signal.explanation


def test_an_event_only_sensor_is_never_offline_from_silence() -> None:
    kit = {**KIT, "flush": ("flush_sensor", "bathroom", "flush", "event-only")}
    home = Home(CFG, kit=kit)
    home.health("flush", "offline", at(2, "09:00"), reason="missed_heartbeats")
    assert raised(home.tick(at(2, "09:01"), at(2, "12:00")), "device_offline") == []
    home.health("motion-kitchen", "offline", at(2, "09:00"), reason="missed_heartbeats")
    assert raised(home.tick(at(2, "12:01"), at(2, "12:30")), "device_offline")


def test_a_mat_that_reports_only_presses_is_left_when_another_room_moves() -> None:
    home = Home(CFG)
    home.send("bed", "occupancy", at(2, "22:00"), occupied=True)  # a press; its "empty" never comes
    home.send("bed", "occupancy", at(3, "06:50"), occupied=True)
    assert raised(home.tick(at(3, "06:51"), at(3, "07:00")), "inactivity") == []
    home.motion("kitchen", at(3, "07:05"))
    assert not home.state.in_bed and home.state.wake_pending == at(3, "07:05")
    assert raised(home.tick(at(3, "07:06"), at(3, "09:30")), "inactivity")  # awake: silence counts


def test_an_evening_whose_normal_quiet_runs_past_any_limit_is_left_to_the_morning_check() -> None:
    home = Home(CFG)
    days = _learned_days(home)
    for day in days:
        day.gaps[17:22] = [400.0] * 5  # this home goes quiet around 17:00 until the night
    home.send("bed", "occupancy", at(2, "07:00"), occupied=False)
    home.motion("hallway", at(2, "17:14"))  # two sensors: someone there after the day's quiet
    home.motion("kitchen", at(2, "17:15"))
    assert raised(home.tick(at(2, "17:16"), at(3, "08:00"), step=300), "inactivity") == []
    [alert] = raised(home.tick(at(3, "08:01"), at(3, "09:00"), step=60), "not_up")
    assert "No movement since 17:15" in alert.signal.explanation


def test_with_a_bed_sensor_that_shows_nothing_the_night_quiet_is_still_sleep() -> None:
    home = Home(CFG)
    home.send("bed", "occupancy", at(2, "07:00"), occupied=False)
    home.motion("hallway", at(2, "23:09"))
    home.motion("lounge", at(2, "23:10"))  # asleep on the sofa, or the mat missed them
    assert raised(home.tick(at(2, "23:11"), at(3, "07:00"), step=300), "inactivity") == []


def test_an_afternoon_nap_is_not_learned_as_getting_up() -> None:
    home = Home(CFG)
    home.send("bed", "occupancy", at(2, "13:00"), occupied=True)  # the morning's exit was not seen
    home.send("bed", "occupancy", at(2, "13:40"), occupied=False)
    home.motion("kitchen", at(2, "13:45"))
    home.tick(at(2, "13:46"), at(2, "15:00"))
    assert home.state.today.wake is None
