"""How devices deliver their readings: connections and wills, seq numbers, and firmware imperfections."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from devices.contract import MessageKind
from simulators.layouts import Layout
from simulators.model import SimEvent
from simulators.timeline import Emit, seconds, sub_rng, to_ms

RECONNECT_PER_DAY = 0.03  # chance per device and day of a short network drop
DUPLICATE_P = 0.002  # chance a message is delivered twice (QoS 1 resend)
DELAY_P = 0.002  # chance a message is held back and arrives after later ones
SKEWED_SHARE = 0.2  # share of devices whose clock is off
WILL_AFTER_S = (60.0, 90.0)  # the broker notices a dead connection after about 1.5 keepalives


@dataclass(slots=True, frozen=True)
class Session:
    """One connection of a device: when it connected and when it dropped (None: still up at the end)."""

    connect: datetime
    drop: datetime | None


def _sessions(
    begin: datetime, end: datetime, outages: list[tuple[datetime, datetime]], rng: random.Random
) -> list[Session]:
    """Connections between the outages (device faults and short network drops)."""
    sessions, connect = [], seconds(begin, rng.uniform(0, 30))
    for down, up in sorted(outages):
        if down <= connect:
            continue
        sessions.append(Session(connect, down))
        connect = up
    if connect < end:
        sessions.append(Session(connect, None))
    return sessions


def _drops(
    begin: datetime, end: datetime, faults: list[tuple[datetime, datetime]], rng: random.Random
) -> list[tuple[datetime, datetime]]:
    """Short network drops (a couple of minutes), outside the device's longer faults."""
    out = []
    days = int((end - begin).total_seconds() // 86400)
    for day in range(days):
        if rng.random() < RECONNECT_PER_DAY:
            down = seconds(begin, (day + rng.random()) * 86400)
            up = seconds(down, rng.uniform(120, 300))  # after the will went out
            if up < end and not any(down < f_end and f_start < up for f_start, f_end in faults):
                out.append((down, up))
    return out


def _presence(key: str, sessions: list[Session], rng: random.Random) -> list[tuple[Emit, float]]:
    """Per connection: the will (seq reserved at connect, published by the broker after a drop) and online."""
    out = []
    for session in sessions:
        if session.drop is not None:
            will = Emit(session.connect, key, MessageKind.PRESENCE, {"state": "offline"})
            published = seconds(session.drop, rng.uniform(*WILL_AFTER_S))
            out.append((will, (published - session.connect).total_seconds()))
        out.append((Emit(seconds(session.connect, 0.2), key, MessageKind.PRESENCE, {"state": "online"}), 0.0))
    return out


def _delay(at: datetime, sessions: list[Session], rng: random.Random) -> float | None:
    """Seconds a reading waits to be sent: 0 while connected, until reconnect if not, None if lost."""
    for index, session in enumerate(sessions):
        if session.connect <= at and (session.drop is None or at < session.drop):
            return 0.0
        if at < session.connect:
            # Buffered before the first connect and over a short drop; lost in a longer outage (dead device).
            previous = sessions[index - 1].drop if index else None
            if previous is None or session.connect - previous <= timedelta(minutes=10):
                return (session.connect - at).total_seconds() + rng.uniform(0.5, 3)
            return None
    return None


def _device_events(
    key: str, emits: list[Emit], sessions: list[Session], rng: random.Random, quirks: bool
) -> list[SimEvent]:
    """A device's messages with seq numbers in event order, its clock skew, duplicates and delays."""
    timed = [(e, d) for e in emits if (d := _delay(e.at, sessions, rng)) is not None]
    timed += _presence(key, sessions, rng)
    timed.sort(key=lambda pair: pair[0].at)
    skew = (
        round(rng.choice([-1, 1]) * rng.uniform(3, 240), 3) if quirks and rng.random() < SKEWED_SHARE else 0.0
    )
    out: list[SimEvent] = []
    last_alert = None
    for seq, (emit, delay) in enumerate(timed, start=1):
        fields = dict(emit.fields)
        if emit.kind in (MessageKind.FALL, MessageKind.ALARM):
            last_alert = seq
        elif emit.kind is MessageKind.ALARM_CANCEL and last_alert is not None:
            fields["cancels_seq"] = last_alert
        if quirks and rng.random() < DELAY_P:
            delay += rng.uniform(30, 900)
        true_at = to_ms(emit.at)
        event = SimEvent(seconds(true_at, skew), key, emit.kind, fields, round(delay, 3), False, seq, skew)
        out.append(event)
        if quirks and rng.random() < DUPLICATE_P:
            out.append(
                SimEvent(
                    event.at, key, emit.kind, fields, round(delay + rng.uniform(0.5, 5), 3), True, seq, skew
                )
            )
    return out


def deliver(
    emits: list[Emit],
    *,
    layout: Layout,
    begin: datetime,
    end: datetime,
    offline: tuple[tuple[str, datetime, datetime], ...],
    seed: int,
    quirks: bool = True,
) -> list[SimEvent]:
    """All messages as devices send them, sorted by intended publish time."""
    by_device: dict[str, list[Emit]] = defaultdict(list)
    for emit in emits:
        if begin <= emit.at < end:
            by_device[emit.device_key].append(emit)
    out: list[SimEvent] = []
    for spec in layout.devices:
        rng = sub_rng(seed, "firmware", spec.key)
        faults = [(s, e) for key, s, e in offline if key == spec.key]
        drops = _drops(begin, end, faults, rng) if quirks else []
        sessions = _sessions(begin, end, faults + drops, rng)
        out += _device_events(spec.key, by_device.get(spec.key, []), sessions, rng, quirks)
    # The publish time is computed once per event: sorting tens of thousands of events is the hot spot.
    keyed = [(e.publish_at, e.device_key, e.seq, e.duplicate, e) for e in out]
    keyed.sort(key=lambda k: k[:4])
    return [k[4] for k in keyed]
