"""Detectors that act on one reading at once: alarm button, fall (with cancel and escalation), smoke,
water, temperature, and device health."""

from __future__ import annotations

from typing import Any

from alerts.service import Severity
from anomaly.clock import LocalClock, duration
from anomaly.config import DetectorConfig
from anomaly.model import Action, Clear, Device, HealthChange, Raise, Reading, signal
from anomaly.state import HomeState

CANCEL_WINDOW_S = 300.0  # a cancel without cancels_seq applies to the wearer's alert of the last 5 minutes
LATE_NOTE_S = 300.0  # a reading this much later than it happened (a flushed backlog) says so


def _arrival(r: Reading, clock: LocalClock) -> str:
    """For a reading that reached the service late: when it arrived, so nobody takes it for live."""
    late = r.received - r.at
    if r.clock_suspect or late < LATE_NOTE_S:
        return ""
    return f" It reached the service at {clock.hhmm(r.received)}, {duration(late)} after it happened."


def on_alarm(st: HomeState, r: Reading, dev: Device, clock: LocalClock, now: float) -> list[Action]:
    """An alarm button press or a detected fall: a critical alert at once."""
    t = r.when
    evidence: list[dict[str, Any]]
    if r.kind == "alarm":
        button = str(r.payload.get("button") or dev.label)
        kind, key = "alarm_pressed", f"alarm_pressed:{dev.device_id}"
        title = f"Alarm button pressed ({button})"
        text = f"The {button} alarm button was pressed at {clock.hhmm(t)}.{_arrival(r, clock)}"
        evidence = [{"reading": "alarm", "button": button, "at": clock.hhmm(t)}]
    else:
        confidence = float(r.value if r.value is not None else r.payload.get("confidence", 0.0))
        kind, key = "fall", f"fall:{dev.device_id}"
        title = "Fall detected"
        text = (
            f"The {dev.label} detected a fall at {clock.hhmm(t)} (confidence {confidence:.2f}); "
            f"nobody has cancelled it.{_arrival(r, clock)}"
        )
        evidence = [{"reading": "fall", "confidence": confidence, "at": clock.hhmm(t)}]
    st.falls[key] = [t, float(r.seq), 0.0]
    st.open[key] = now
    sig = signal(st.home_id, kind, "critical", key, t, title, text, evidence, device_id=dev.device_id)
    return [Raise(sig, now)]


def on_cancel(st: HomeState, r: Reading, dev: Device, clock: LocalClock, now: float) -> list[Action]:
    """The wearer cancelled: resolve their alarm or fall with that note."""
    t = r.when
    target = r.payload.get("cancels_seq")
    out: list[Action] = []
    for key, (at, seq, _escalated) in list(st.falls.items()):
        if not key.endswith(str(dev.device_id)):
            continue
        if (target is not None and int(seq) == int(target)) or (
            target is None and 0 <= t - at <= CANCEL_WINDOW_S
        ):
            del st.falls[key]
            if st.open.pop(key, None) is not None:
                kind = key.split(":", 1)[0]
                note = f"cancelled by the wearer at {clock.hhmm(t)}, {duration(max(0.0, t - at))} after it"
                if t - at < 60:
                    note = f"cancelled by the wearer at {clock.hhmm(t)}, {int(max(0.0, t - at))} s after it"
                out.append(Clear(st.home_id, key, kind, now, note, "cancelled"))
    return out


def escalate_falls(st: HomeState, cfg: DetectorConfig, clock: LocalClock, now: float) -> list[Action]:
    """A fall followed by no movement at all becomes more urgent: update the alert with that evidence."""
    out: list[Action] = []
    for key, entry in st.falls.items():
        at, _seq, escalated = entry
        if escalated or not key.startswith("fall:") or now - at < cfg.fall_escalate_s:
            continue
        moved = st.last_act is not None and st.last_act > at + 15
        entry[2] = 1.0
        if moved or key not in st.open:
            continue
        text = (
            f"A fall was detected at {clock.hhmm(at)} and no movement has been seen in the home since "
            f"({duration(now - at)}). Nobody has cancelled it."
        )
        evidence = [{"fall_at": clock.hhmm(at), "no_movement_for_s": round(now - at)}]
        title = "Fall detected, no movement since"
        sig = signal(st.home_id, "fall", "critical", key, at, title, text, evidence)
        out.append(Raise(sig, now))
    # Forget falls long past, so the state stays small.
    for key in [k for k, (at, _s, _e) in st.falls.items() if now - at > 86400]:
        del st.falls[key]
    return out


def on_hazard(st: HomeState, r: Reading, dev: Device, clock: LocalClock, now: float) -> list[Action]:
    """Smoke or water: critical while it lasts, resolved when the sensor says it stopped."""
    t = r.when
    kind = r.kind
    key = f"{kind}:{dev.device_id}"
    active = bool(r.payload.get("alarm" if kind == "smoke" else "leak"))
    what = "smoke alarm" if kind == "smoke" else "water leak sensor"
    if active:
        st.open[key] = now
        title = "Smoke alarm sounding" if kind == "smoke" else "Water leak"
        text = f"The {dev.room or 'home'} {what} went off at {clock.hhmm(t)}.{_arrival(r, clock)}"
        evidence = [{"reading": kind, "room": dev.room, "at": clock.hhmm(t)}]
        sig = signal(
            st.home_id,
            kind,
            "critical",
            key,
            t,
            title,
            text,
            evidence,
            device_id=dev.device_id,
            room=dev.room,
        )
        return [Raise(sig, now)]
    if st.open.pop(key, None) is None:
        return []
    return [Clear(st.home_id, key, kind, now, f"the {what} stopped at {clock.hhmm(t)}")]


def on_temperature(
    st: HomeState, r: Reading, dev: Device, cfg: DetectorConfig, clock: LocalClock, now: float
) -> list[Action]:
    """A room below 16 °C (or too hot) for a sustained time; resolved with a margin once it recovers."""
    if r.value is None:
        return []
    t, celsius, room = r.when, float(r.value), dev.room or dev.label
    since = st.temps.setdefault(room, [None, None])
    out: list[Action] = []
    for index, kind, bad, ok in (
        (0, "cold_home", celsius < cfg.cold_c, celsius >= cfg.cold_c + 0.5),
        (1, "hot_home", celsius > cfg.hot_c, celsius <= cfg.hot_c - 1.0),
    ):
        key = f"{kind}:{room}"
        start = since[index]
        if bad:
            start = since[index] = t if start is None else start
            if t - start >= cfg.temp_sustain_s and key not in st.open:
                st.open[key] = now
                word = "below" if kind == "cold_home" else "above"
                limit = cfg.cold_c if kind == "cold_home" else cfg.hot_c
                text = (
                    f"The {room} has been {word} {limit:.0f} °C since {clock.hhmm(start)} "
                    f"({duration(t - start)}); now {celsius:.1f} °C."
                )
                evidence = [{"room": room, "celsius": celsius, "since": clock.hhmm(start)}]
                title = f"{'Cold' if kind == 'cold_home' else 'Hot'} home: {room} {celsius:.1f} °C"
                severity: Severity = "high" if kind == "cold_home" else "medium"
                sig = signal(st.home_id, kind, severity, key, t, title, text, evidence, room=room)
                out.append(Raise(sig, now))
        elif ok:
            since[index] = None
            if st.open.pop(key, None) is not None:
                note = f"the {room} is back to {celsius:.1f} °C at {clock.hhmm(t)}"
                out.append(Clear(st.home_id, key, kind, now, note))
    return out


def on_health(
    st: HomeState, ev: HealthChange, dev: Device | None, clock: LocalClock, now: float
) -> list[Action]:
    """Device health events: offline waits for its grace period (see check_offline), the rest act at once."""
    device = str(ev.device_id)
    name = dev.label if dev else "device"
    if ev.kind == "offline":
        if dev is not None and dev.event_only and ev.detail.get("reason") == "missed_heartbeats":
            return []  # it declares no heartbeat: its silence is a quiet home, not a fault
        st.offline.setdefault(device, ev.at)
        return []
    if ev.kind == "online":
        st.offline.pop(device, None)
        key = f"device_offline:{device}"
        if st.open.pop(key, None) is None:
            return []
        note = f"the {name} is back online at {clock.hhmm(ev.at)}"
        return [Clear(st.home_id, key, "device_offline", now, note)]
    key = f"low_battery:{device}"
    if ev.kind == "low_battery":
        if key in st.open:
            return []
        st.open[key] = now
        battery = ev.detail.get("battery")
        level = f" ({battery} %)" if battery is not None else ""
        text = f"The {name}'s battery is low{level} since {clock.hhmm(ev.at)}; it needs a new battery soon."
        sig = signal(
            st.home_id,
            "low_battery",
            "low",
            key,
            ev.at,
            f"Low battery: {name}",
            text,
            [{"device": name, "battery": battery}],
            device_id=ev.device_id,
        )
        return [Raise(sig, now)]
    if ev.kind == "battery_ok" and st.open.pop(key, None) is not None:
        return [Clear(st.home_id, key, "low_battery", now, f"the {name}'s battery is fine again")]
    return []


def check_offline(
    st: HomeState, devices: dict[str, Device], cfg: DetectorConfig, clock: LocalClock, now: float
) -> list[Action]:
    """Devices offline longer than the grace period (short network drops are not worth an alert)."""
    out: list[Action] = []
    for device, since in st.offline.items():
        key = f"device_offline:{device}"
        if now - since < cfg.offline_grace_s or key in st.open:
            continue
        st.open[key] = now
        dev = devices.get(device)
        name = dev.label if dev else "device"
        text = f"The {name} has not been heard from since {clock.hhmm(since)} ({duration(now - since)})."
        sig = signal(
            st.home_id,
            "device_offline",
            "medium",
            key,
            since + cfg.offline_grace_s,
            f"Device offline: {name}",
            text,
            [{"device": name, "since": clock.hhmm(since)}],
            device_id=dev.device_id if dev else None,
            room=dev.room if dev else None,
        )
        out.append(Raise(sig, now))
    return out
