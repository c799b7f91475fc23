"""Running the pure detector over simulated homes, the way the runtime would see their messages.

Each home's messages are fed in publish order (duplicates dropped, as ingest does), device health is
folded with the ingest worker's own pure fold, and the clock ticks every minute of simulated time.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from anomaly.config import DetectorConfig
from anomaly.detector import Detector
from anomaly.model import Action, Clear, Device, HealthChange, Raise, Reading
from devices import health
from simulators.home import simulate_home
from simulators.layouts import DeviceSpec, get_layout
from simulators.model import Incident, SimEvent

TICK_S = 60.0
SUSPECT_AHEAD_S = 300.0  # as ingest: a time more than 5 minutes ahead of arrival is not trusted
RESPONDED = frozenset({"alarm_pressed", "fall"})
RESPONSE_S = 1800.0
_NS = uuid.UUID("6b1f3c44-3d0e-4c59-9a57-1f7f3a8e2b10")


@dataclass(slots=True, frozen=True)
class HomeSpec:
    """One simulated home of the evaluation."""

    seed: int
    profile: str
    layout: str
    start: date
    days: int
    incident_rate: float


@dataclass(slots=True)
class AlertRecord:
    """One alert the detector raised (updates folded in), and how it ended."""

    home: str
    kind: str
    key: str
    raised_at: float
    triggered_at: float
    evidence: list[dict[str, Any]]
    resolution: str | None = None
    resolved_at: float | None = None
    updates: int = 0


@dataclass(slots=True)
class HomeRun:
    """What the detector did for one home, with the home's ground truth."""

    home: str
    profile: str
    tz: str = "Europe/London"
    alerts: list[AlertRecord] = field(default_factory=list)
    incidents: list[Incident] = field(default_factory=list)
    start: float = 0.0
    end: float = 0.0
    readings: int = 0
    # The home's kit by device key, so scoring can tell which alerts an incident's device can cause.
    devices: dict[str, DeviceSpec] = field(default_factory=dict)


_VALUE_FIELD = {"temperature": "celsius", "power": "watts", "fall": "confidence"}
_BOOL_FIELD = {
    "motion": "detected",
    "contact": "open",
    "occupancy": "occupied",
    "smoke": "alarm",
    "water_leak": "leak",
}


def _value(event: SimEvent) -> float | None:
    kind = event.kind.value
    if kind in _VALUE_FIELD:
        return float(event.fields[_VALUE_FIELD[kind]])
    if kind in _BOOL_FIELD:
        return 1.0 if event.fields[_BOOL_FIELD[kind]] else 0.0
    return 1.0 if kind in ("flush", "alarm", "alarm_cancel") else None


def device_id(home: str, key: str) -> uuid.UUID:
    """A stable id for a simulated device."""
    return uuid.uuid5(_NS, f"{home}/{key}")


class _Recorder:
    """Turns the detector's actions into alert records, as the alert lifecycle would fold them."""

    def __init__(self, run: HomeRun, home_id: uuid.UUID) -> None:
        self.run = run
        self.home_id = home_id
        self.open: dict[str, AlertRecord] = {}

    def respond(self, detector: Detector, now: float) -> None:
        """A responder deals with an alarm or fall within half an hour and resolves it by hand."""
        for key, record in list(self.open.items()):
            if record.kind in RESPONDED and now - record.raised_at >= RESPONSE_S:
                record.resolution, record.resolved_at = "handled", now
                del self.open[key]
                detector.forget(self.home_id, key)

    def take(self, actions: list[Action]) -> None:
        for action in actions:
            if isinstance(action, Raise):
                sig = action.signal
                record = self.open.get(sig.dedupe_key)
                if record is not None:
                    record.updates += 1
                    continue
                record = AlertRecord(
                    self.run.home,
                    sig.kind,
                    sig.dedupe_key,
                    action.at,
                    sig.triggered_at.timestamp(),
                    sig.evidence,
                )
                self.open[sig.dedupe_key] = record
                self.run.alerts.append(record)
            elif isinstance(action, Clear):
                done = self.open.pop(action.key, None)
                if done is not None:
                    done.resolution, done.resolved_at = action.resolution, action.at


def run_home(spec: HomeSpec, cfg: DetectorConfig) -> HomeRun:
    """Simulate one home and run the detector over it."""
    stream = simulate_home(
        seed=spec.seed,
        profile=spec.profile,
        layout=spec.layout,
        start=spec.start,
        days=spec.days,
        incident_rate=spec.incident_rate,
    )
    home_id = uuid.uuid5(_NS, stream.home_name)
    detector = Detector(cfg)
    detector.add_home(home_id, stream.tz)
    ids: dict[str, uuid.UUID] = {}
    healths: dict[str, health.Health] = {}
    for spec_dev in get_layout(spec.layout).devices:
        ids[spec_dev.key] = device_id(stream.home_name, spec_dev.key)
        detector.add_device(Device(ids[spec_dev.key], home_id, spec_dev.type, spec_dev.room))
        healths[spec_dev.key] = health.Health(ids[spec_dev.key], home_id)
    kit = {d.key: d for d in get_layout(spec.layout).devices}
    run = HomeRun(stream.home_name, spec.profile, stream.tz, incidents=stream.incidents, devices=kit)
    recorder = _Recorder(run, home_id)
    seen: set[tuple[str, int]] = set()
    events = [e for e in stream.events if not e.duplicate]
    run.start = events[0].publish_at.timestamp()
    next_tick = run.start + TICK_S
    for event in events:
        received = event.publish_at.timestamp()
        while next_tick <= received:
            recorder.take(detector.tick(next_tick))
            recorder.respond(detector, next_tick)
            if detector.training_due:
                detector.train_due(100)
            next_tick += TICK_S
        if (event.device_key, event.seq) in seen:
            continue
        seen.add((event.device_key, event.seq))
        run.readings += 1
        at = event.at.timestamp()
        reading = Reading(
            ids[event.device_key],
            home_id,
            event.kind.value,
            at,
            received,
            event.seq,
            _value(event),
            event.fields,
            at > received + SUSPECT_AHEAD_S,
        )
        recorder.take(detector.feed(reading, received))
        if event.kind.value in ("presence", "status"):
            obs = health.Observation(
                ids[event.device_key], home_id, event.publish_at, event.at, event.kind.value, event.fields
            )
            healths[event.device_key], changes = health.fold(healths[event.device_key], [obs])
            for change in changes:
                ev = HealthChange(
                    change.device_id, home_id, change.kind, change.at.timestamp(), change.detail
                )
                recorder.take(detector.health(ev, received))
    run.end = next_tick
    return run
