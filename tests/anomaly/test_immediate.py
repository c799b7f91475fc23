"""Immediate detectors on hand-written streams: alarm, fall (cancel, escalation), smoke, water, cold,
device health."""

from __future__ import annotations

from tests.anomaly.streams import Home, at, cleared, raised


def test_an_alarm_press_is_a_critical_alert_at_once() -> None:
    home = Home()
    out = home.send("pendant", "alarm", at(2, "10:15"), button="pendant")
    [alert] = raised(out, "alarm_pressed")
    assert alert.signal.severity == "critical"
    assert "10:15" in alert.signal.explanation
    assert alert.signal.device_id == home.ids["pendant"]


def test_a_fall_cancelled_by_the_wearer_is_resolved_with_that_note() -> None:
    home = Home()
    home.send("wrist", "fall", at(2, "11:00"), confidence=0.7)
    out = home.send("wrist", "alarm_cancel", at(2, "11:00", 26), cancels_seq=home.seq)
    [done] = cleared(out, "fall")
    assert done.resolution == "cancelled"
    assert done.note == "cancelled by the wearer at 11:00, 26 s after it"
    assert raised(home.tick(at(2, "11:01"), at(2, "11:10")), "fall") == []


def test_a_fall_followed_by_no_movement_is_escalated_once() -> None:
    home = Home()
    home.motion("lounge", at(2, "11:59"))
    home.send("wrist", "fall", at(2, "12:00"), confidence=0.95)
    out = home.tick(at(2, "12:01"), at(2, "12:10"))
    [update] = raised(out, "fall")
    assert "no movement" in update.signal.title.lower()
    assert update.signal.dedupe_key == raised(home.actions, "fall")[0].signal.dedupe_key


def test_a_fall_followed_by_movement_is_not_escalated() -> None:
    home = Home()
    home.send("wrist", "fall", at(2, "12:00"), confidence=0.95)
    home.motion("kitchen", at(2, "12:00", 50))
    assert raised(home.tick(at(2, "12:01"), at(2, "12:10")), "fall") == []


def test_smoke_and_water_are_critical_and_clear_when_they_stop() -> None:
    home = Home()
    [smoke] = raised(home.send("smoke", "smoke", at(2, "18:00"), alarm=True))
    [water] = raised(home.send("water", "water_leak", at(2, "18:01"), leak=True))
    assert {smoke.signal.severity, water.signal.severity} == {"critical"}
    assert cleared(home.send("smoke", "smoke", at(2, "18:05"), alarm=False), "smoke")
    assert cleared(home.send("water", "water_leak", at(2, "19:00"), leak=False), "water_leak")


def test_a_cold_room_needs_a_sustained_time_and_clears_with_a_margin() -> None:
    home = Home()
    assert home.send("temp-lounge", "temperature", at(2, "03:00"), celsius=15.6) == []
    assert home.send("temp-lounge", "temperature", at(2, "03:15"), celsius=15.4) == []
    [cold] = raised(home.send("temp-lounge", "temperature", at(2, "03:30"), celsius=15.1))
    assert cold.signal.room == "lounge" and "below 16" in cold.signal.explanation
    assert home.send("temp-lounge", "temperature", at(2, "03:45"), celsius=16.2) == []  # not warm enough yet
    assert cleared(home.send("temp-lounge", "temperature", at(2, "04:00"), celsius=16.8), "cold_home")


def test_device_offline_waits_for_its_grace_and_clears_when_back() -> None:
    home = Home()
    home.health("motion-kitchen", "offline", at(2, "09:00"))
    assert raised(home.tick(at(2, "09:01"), at(2, "09:09")), "device_offline") == []
    home.health("motion-kitchen", "online", at(2, "09:05"))  # a short drop: nothing to say
    home.health("motion-kitchen", "offline", at(2, "10:00"))
    [alert] = raised(home.tick(at(2, "10:00"), at(2, "10:20")), "device_offline")
    assert "kitchen motion sensor" in alert.signal.explanation
    assert cleared(home.health("motion-kitchen", "online", at(2, "11:00")), "device_offline")


def test_low_battery_raises_once_and_clears_on_battery_ok() -> None:
    home = Home()
    [alert] = raised(home.health("smoke", "low_battery", at(2, "09:00"), battery=12))
    assert alert.signal.severity == "low" and "12 %" in alert.signal.explanation
    assert home.health("smoke", "low_battery", at(2, "15:00"), battery=10) == []
    assert cleared(home.health("smoke", "battery_ok", at(3, "09:00"), battery=100), "low_battery")
