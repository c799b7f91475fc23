"""A home's own clock: a flushed backlog of readings is judged by how far it has got, not by the wall
clock; silence afterwards still raises alerts; immediate alerts are never held back; one device with a
slow clock does not hold back a live home."""

from __future__ import annotations

from typing import Any

from anomaly.config import DetectorConfig
from anomaly.state import dump_live, load_state
from tests.anomaly.streams import Home, at, raised

CFG = DetectorConfig(default_inactivity_s=2 * 3600, default_wake_min=10 * 60 + 30, default_bathroom_s=3600)
LIVE = at(3, "10:48")  # the hub's broadband is back: it flushes the last day, then goes live
TIMED = ("inactivity", "bathroom_too_long", "not_up")

Message = tuple[str, str, float, dict[str, Any]]


def _motion(room: str, t: float) -> Message:
    return (f"motion-{room}", "motion", t, {"detected": True})


def _last_day() -> list[Message]:
    """Day 2 10:48 to day 3 10:45: an ordinary day, a bathroom visit at 23:13, a night in bed."""
    out: list[Message] = []
    t = at(2, "10:50")
    while t < at(2, "22:50"):
        out.append(_motion("kitchen" if int(t // 3600) % 2 else "lounge", t))
        t += 20 * 60
    out += [
        _motion("bathroom", at(2, "23:13")),
        _motion("hallway", at(2, "23:21")),
        ("bed", "occupancy", at(2, "23:25"), {"occupied": True}),
        ("bed", "occupancy", at(3, "07:40"), {"occupied": False}),
    ]
    t = at(3, "07:45")
    while t < at(3, "10:46"):
        out.append(_motion("kitchen", t))
        t += 15 * 60
    t = at(2, "10:50")
    while t < LIVE:
        out.append(("pendant", "heartbeat", t, {}))
        t += 300
    return sorted(out, key=lambda m: m[2])


def _flush(home: Home, messages: list[Message], start: float, seconds: float) -> None:
    """Deliver messages at full speed from start, over `seconds`, the clock ticking before each one."""
    step = seconds / len(messages)
    for index, (key, kind, t, fields) in enumerate(messages):
        arrival = start + index * step
        home.tick(arrival, arrival)
        home.send(key, kind, t, received=arrival, **fields)


def test_a_flushed_backlog_raises_no_alert_of_silence_and_then_the_home_is_live() -> None:
    home = Home(CFG)
    _flush(home, _last_day(), LIVE, 60)
    home.tick(LIVE + 60, LIVE + 120, step=5)
    assert [a for a in raised(home.actions) if a.signal.kind in TIMED] == []
    home.motion("lounge", at(3, "10:52"))
    assert home.state.lag == 0.0
    # Completely silent from here on: the silence is judged by the wall clock again.
    home.tick(at(3, "10:53"), at(3, "13:00"))
    [alert] = raised(home.actions, "inactivity")
    assert alert.at == at(3, "12:52") and "since 10:52" in alert.signal.explanation


def test_silence_after_a_backlog_that_stopped_short_is_still_reported() -> None:
    home = Home(CFG)
    first_half = [m for m in _last_day() if m[2] < at(3, "08:30")]
    _flush(home, first_half, LIVE, 30)  # and then the hub goes quiet: nothing live
    held = home.state.lag
    assert 2 * 3600 < held < 3 * 3600
    home.tick(LIVE + 30, LIVE + held + 3 * 3600, step=60)
    [alert] = raised(home.actions, "inactivity")
    # Judged by the home's clock: two hours after its last movement, at most the held lag late.
    assert "since 08:15" in alert.signal.explanation
    assert alert.at <= at(3, "10:15") + held + 60


def test_an_alarm_inside_a_backlog_is_raised_at_once_with_its_own_time() -> None:
    home = Home(CFG)
    messages = _last_day()
    before = [m for m in messages if m[2] < at(3, "01:30")]
    _flush(home, before, LIVE, 20)
    out = home.send("pendant", "alarm", at(3, "01:30"), received=LIVE + 21, button="pendant")
    [alert] = raised(out, "alarm_pressed")
    assert alert.at == LIVE + 21 and alert.signal.triggered_at.timestamp() == at(3, "01:30")
    text = alert.signal.explanation
    assert "pressed at 01:30" in text and "reached the service at 10:48, 9 h 18 after it" in text


def test_a_device_with_a_slow_clock_does_not_hold_back_a_live_home() -> None:
    home = Home(CFG)
    slow = 20 * 60
    home.send("bed", "occupancy", at(2, "07:00"), occupied=False)
    t = at(2, "07:01")
    while t <= at(2, "11:30"):
        if t <= at(2, "09:12"):
            home.motion("kitchen", t)  # up and about until 09:12, then nothing moves
        if int(t) % 600 == 0:
            home.send("temp-lounge", "temperature", t - slow, received=t, celsius=20.0)
        home.tick(t, t)
        t += 60
    [alert] = raised(home.actions, "inactivity")
    assert alert.at == at(2, "11:12")
    assert home.state.lag == 0.0


def test_the_home_clock_is_checkpointed_and_old_checkpoints_still_load() -> None:
    home = Home(CFG)
    _flush(home, _last_day()[:40], LIVE, 10)
    live = dump_live(home.state)
    again = load_state(home.home_id, live, None)
    assert again.lag == home.state.lag > 0 and again.links == home.state.links
    old = {k: v for k, v in live.items() if k not in ("lag", "live_at", "live_dev", "links")}
    assert load_state(home.home_id, old, None).lag == 0.0
