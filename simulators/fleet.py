"""A fleet for load: N homes, each with a hub and a realistic kit, sending as real homes do.

Most of a home's sensors are quiet most of the time and burst when the resident moves: a walk into the
kitchen is a motion on, a door open and shut, the kettle's plug, a motion off a minute later. Every
device is heard from at least every `heartbeat_s` (the hub reports its devices' liveness in one batch,
and its own heartbeat on its own topic); temperatures come every 15 minutes. Activity follows the
residents' day by local hour, with its morning peak (people get up, wash, make breakfast within the
same two hours), and the hub sends what its devices said within `flush_s` as one batch (contract 1.1),
alarms at once on the pendant's own topic.

Pure and fast (no I/O): `FleetClock.step` yields the messages due in a slice of time, so the same model
drives the simulator's load mode (simulators/load.py) and the fleet benchmark (bench/fleet).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from uuid import UUID, uuid5

import orjson

from devices.contract import CONTRACT_VERSION_SEGMENT

# The kit behind every hub: twelve devices, as a typical telecare install with activity sensing.
KIT: tuple[tuple[str, str], ...] = (
    ("motion_sensor", "kitchen"),
    ("motion_sensor", "lounge"),
    ("motion_sensor", "bedroom"),
    ("motion_sensor", "bathroom"),
    ("motion_sensor", "hallway"),
    ("door_contact", "hallway"),
    ("door_contact", "kitchen"),  # the fridge
    ("bed_sensor", "bedroom"),
    ("chair_sensor", "lounge"),
    ("temperature_sensor", "lounge"),
    ("smart_plug", "kitchen"),
    ("pendant", ""),
)
# Relative activity by local hour: night, the morning peak, the day, the evening.
DAY_SHAPE = (
    0.05, 0.04, 0.04, 0.04, 0.05, 0.1, 0.5, 1.6, 2.0, 1.5, 1.0, 0.9,
    1.0, 0.9, 0.7, 0.7, 0.8, 1.0, 1.1, 1.0, 0.8, 0.5, 0.2, 0.08,
)  # fmt: skip
PEAK = max(DAY_SHAPE)
# What a burst of activity in a room makes its sensors say (kind, fields), in order.
BURSTS: dict[str, tuple[tuple[int, str, dict[str, object]], ...]] = {
    "kitchen": (
        (0, "motion", {"detected": True}),
        (6, "contact", {"open": True}),
        (6, "contact", {"open": False}),
        (10, "power", {"watts": 2850.0, "appliance": "kettle"}),
        (10, "power", {"watts": 0.0}),
        (0, "motion", {"detected": False}),
    ),
    "lounge": (
        (1, "motion", {"detected": True}),
        (8, "occupancy", {"occupied": True}),
        (1, "motion", {"detected": False}),
    ),
    "bedroom": (
        (2, "motion", {"detected": True}),
        (7, "occupancy", {"occupied": False}),
        (2, "motion", {"detected": False}),
    ),
    "bathroom": ((3, "motion", {"detected": True}), (3, "motion", {"detected": False})),
    "hallway": (
        (4, "motion", {"detected": True}),
        (5, "contact", {"open": True}),
        (5, "contact", {"open": False}),
    ),
}
ROOMS = tuple(BURSTS)
NAMESPACE = UUID("2f0d6c1e-8a57-4b8e-9c3a-6d1f0e7b5a42")


def home_id(n: int) -> UUID:
    """The n-th fleet home's id (stable, so the benchmark can provision in SQL and publish apart)."""
    return uuid5(NAMESPACE, f"home-{n}")


def device_id(n: int, k: int) -> UUID:
    """Device k of the n-th home's kit; k == len(KIT) is the home's hub."""
    return uuid5(NAMESPACE, f"device-{n}-{k}")


@dataclass(frozen=True, slots=True)
class FleetMessage:
    """One MQTT message of the fleet: where, what, how many readings it carries, whether an alarm."""

    topic: str
    payload: bytes
    readings: int
    alarm: bool = False


@dataclass(slots=True)
class _Hub:
    """What a hub is holding to send, and each of its devices' next seq."""

    ids: list[str]
    seqs: list[int]
    pending: list[tuple[int, bytes]] = field(default_factory=list)  # (device, item)
    since: float = 0.0


@dataclass
class FleetClock:
    """The fleet's messages, slice of time by slice of time.

    `readings_per_s` is the fleet's average activity rate at the peak hour (heartbeats and temperatures
    come on top); `hour` fixes the local hour (the benchmark's morning peak), None follows the clock.
    """

    homes: int
    topic_root: str
    readings_per_s: float = 1000.0
    heartbeat_s: float = 300.0
    hub_heartbeat_s: float = 60.0  # the `hub` device type's interval
    flush_s: float = 1.0
    hour: int | None = None
    alarm_every_s: float | None = None
    seed: int = 1
    first_seq: int = 1
    batch: bool = True
    # False: every event of a slice at its start, the readings of a burst at once (the benchmark: so
    # an event's time is when it was published, and event-to-commit is publish-to-commit).
    spread: bool = True
    _rng: random.Random = field(init=False)
    _hubs: dict[int, _Hub] = field(init=False, default_factory=dict)
    _next_alarm: float = field(init=False, default=0.0)
    _due: dict[str, float] = field(init=False, default_factory=dict)
    _prefix: list[str] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._prefix = [
            f"{self.topic_root}/{CONTRACT_VERSION_SEGMENT}/{home_id(n)}" for n in range(self.homes)
        ]

    def warm(self) -> None:
        """Make every home's hub now (their ids are uuid5s: a fleet's take seconds to compute)."""
        for n in range(self.homes):
            self._hub(n)

    def _hub(self, n: int) -> _Hub:
        hub = self._hubs.get(n)
        if hub is None:
            ids = [str(device_id(n, k)) for k in range(len(KIT) + 1)]
            hub = self._hubs[n] = _Hub(ids, [self.first_seq] * (len(KIT) + 1))
        return hub

    def _item(self, n: int, k: int, kind: str, fields: dict[str, object], t: float) -> bytes:
        hub = self._hub(n)
        seq = hub.seqs[k]
        hub.seqs[k] = seq + 1
        body = {"device_id": hub.ids[k], "kind": kind, "ts": _iso(t), "seq": seq, **fields}
        return orjson.dumps(body)

    def step(self, start: float, end: float) -> Iterator[FleetMessage]:
        """The messages the fleet sends in [start, end) (wall-clock seconds), in time order within kinds."""
        rate = self.readings_per_s * _shape(self.hour, start) / PEAK
        bursts = _poisson(self._rng, rate * (end - start) / 3.5)  # a burst is ~3.5 readings
        for _ in range(bursts):
            at = start + self._rng.random() * (end - start) if self.spread else start
            self._burst(self._rng.randrange(self.homes), at)
        yield from self._heartbeats(start, end)
        if self.alarm_every_s and end >= self._next_alarm:
            self._next_alarm = max(self._next_alarm, start) + self.alarm_every_s
            yield self._alarm(self._rng.randrange(self.homes), start)
        yield from self._flush(end)

    def _burst(self, n: int, t: float) -> None:
        room = ROOMS[self._rng.randrange(len(ROOMS))]
        hub = self._hub(n)
        if not hub.pending:
            hub.since = t
        for offset, (k, kind, fields) in enumerate(BURSTS[room]):
            at = t + offset * 0.7 if self.spread else t
            hub.pending.append((k, self._item(n, k, kind, fields, at)))

    def _count(self, name: str, period: float, span: float) -> int:
        """How many of the homes' once-per-period events fall in a span (the remainder carried on)."""
        due = self.homes * span / period + self._due.get(name, 0.0)
        self._due[name] = due - int(due)
        return int(due)

    def _heartbeats(self, start: float, end: float) -> Iterator[FleetMessage]:
        """Each hub's heartbeat every hub_heartbeat_s; its devices' liveness every heartbeat_s (one batch)."""
        hub_k = len(KIT)
        for _ in range(self._count("hub", self.hub_heartbeat_s, end - start)):
            n = self._rng.randrange(self.homes)
            hub = self._hub(n)
            beat = {"ts": _iso(start), "seq": hub.seqs[hub_k]}
            hub.seqs[hub_k] += 1
            yield FleetMessage(f"{self._prefix[n]}/{hub.ids[hub_k]}/heartbeat", orjson.dumps(beat), 1)
        for _ in range(self._count("devices", self.heartbeat_s, end - start)):
            n = self._rng.randrange(self.homes)
            celsius = round(18 + self._rng.random() * 5, 1)
            items = [
                (k, self._item(n, k, "temperature", {"celsius": celsius}, start))
                if kind == "temperature_sensor"
                else (k, self._item(n, k, "heartbeat", {}, start))
                for k, (kind, _) in enumerate(KIT)
            ]
            yield from self._send(n, items)

    def _alarm(self, n: int, t: float) -> FleetMessage:
        k = len(KIT) - 1  # the pendant, sent at once on its own topic by the hub
        hub = self._hub(n)
        body = {"ts": _iso(t), "seq": hub.seqs[k], "button": "pendant"}
        hub.seqs[k] += 1
        return FleetMessage(f"{self._prefix[n]}/{hub.ids[k]}/alarm", orjson.dumps(body), 1, alarm=True)

    def _flush(self, now: float) -> Iterator[FleetMessage]:
        due = [n for n, hub in self._hubs.items() if hub.pending and now - hub.since >= self.flush_s]
        for n in due:
            hub = self._hubs[n]
            items, hub.pending = hub.pending, []
            yield from self._send(n, items)

    def _send(self, n: int, items: list[tuple[int, bytes]]) -> Iterator[FleetMessage]:
        """One batch on the hub's topic; or (batch=False) each item on its device's own topic, as if
        every device held a connection of its own (what a fleet without hubs sends)."""
        hub = self._hubs[n]
        if self.batch:
            body = b'{"readings":[' + b",".join(item for _, item in items) + b"]}"
            yield FleetMessage(f"{self._prefix[n]}/{hub.ids[len(KIT)]}/batch", body, len(items))
            return
        for k, item in items:
            data = orjson.loads(item)
            del data["device_id"]
            kind = data.pop("kind")
            yield FleetMessage(f"{self._prefix[n]}/{hub.ids[k]}/{kind}", orjson.dumps(data), 1)


def _shape(hour: int | None, t: float) -> float:
    return DAY_SHAPE[hour if hour is not None else datetime.fromtimestamp(t, UTC).hour]


def _poisson(rng: random.Random, mean: float) -> int:
    """A Poisson count (normal approximation for large means; exact enough for load)."""
    if mean <= 0:
        return 0
    if mean > 50:
        return max(0, round(rng.gauss(mean, mean**0.5)))
    limit, k, p = 2.718281828459045**-mean, 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat()
