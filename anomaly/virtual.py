"""The detector on a virtual clock: a home's readings fed at their own times, the clock ticked between
them as the runtime ticks it, device silence checked as storage upkeep checks it.

What it decides is what the detector would have decided live, however fast the log is played: silence is
seen because the clock moves through it. Used by `telecare replay` and the real-homes evaluation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from anomaly.config import DetectorConfig
from anomaly.detector import Detector
from anomaly.model import Action, Clear, Device, HealthChange, Raise, Reading

TICK_S = 60.0
MIN_GRACE_S = 30.0  # as devices.health: the grace past a heartbeat interval before "offline"
GRACE_FRACTION = 0.2


@dataclass(slots=True, frozen=True)
class Event:
    """One reading of the replayed home: when (epoch seconds), which device, what."""

    at: float
    device_id: UUID
    kind: str
    value: float | None
    payload: dict[str, Any]


@dataclass(slots=True)
class Decision:
    """One alert the detector raised (its updates folded in), and how it ended."""

    kind: str
    key: str
    raised_at: float
    triggered_at: float
    title: str
    explanation: str
    evidence: list[dict[str, Any]]
    severity: str
    resolution: str | None = None
    resolved_at: float | None = None
    note: str = ""
    updates: int = 0


@dataclass(slots=True)
class Replayed:
    """What the detector did over one replayed home."""

    home_id: UUID
    decisions: list[Decision] = field(default_factory=list)
    start: float = 0.0
    end: float = 0.0
    readings: int = 0
    kit_notes: list[str] = field(default_factory=list)


class Recorder:
    """The alert lifecycle's folding: one alert per open condition, closed by its Clear."""

    def __init__(self, run: Replayed) -> None:
        self.run = run
        self.open: dict[str, Decision] = {}

    def take(self, actions: list[Action]) -> None:
        """Fold the detector's actions into the run's decisions."""
        for action in actions:
            if isinstance(action, Raise):
                sig = action.signal
                known = self.open.get(sig.dedupe_key)
                if known is not None:
                    known.updates += 1
                    continue
                decision = Decision(
                    sig.kind,
                    sig.dedupe_key,
                    action.at,
                    sig.triggered_at.timestamp(),
                    sig.title,
                    sig.explanation,
                    list(sig.evidence),
                    sig.severity,
                )
                self.open[sig.dedupe_key] = decision
                self.run.decisions.append(decision)
            elif isinstance(action, Clear):
                done = self.open.pop(action.key, None)
                if done is not None:
                    done.resolution, done.resolved_at, done.note = action.resolution, action.at, action.note


def heartbeats(devices: Iterable[Device], intervals: dict[str, float]) -> dict[UUID, float]:
    """The heartbeat interval of each device that declares one (event-only devices declare none)."""
    return {d.device_id: intervals[d.type] for d in devices if not d.event_only and d.type in intervals}


def replay(
    cfg: DetectorConfig,
    home_id: UUID,
    tz: str,
    devices: list[Device],
    events: Iterable[Event],
    *,
    beats: dict[UUID, float] | None = None,
    tick_s: float = TICK_S,
    until: float | None = None,
    on_tick: Callable[[Detector, float], None] | None = None,
) -> Replayed:
    """Feed the events in time order on one virtual clock; returns the alerts with their times."""
    detector = Detector(cfg)
    detector.add_home(home_id, tz)
    for device in devices:
        detector.add_device(device)
    run = Replayed(home_id, kit_notes=detector.kit_notes(home_id))
    recorder = Recorder(run)
    silence = _Silence(beats or {})
    ordered = sorted(events, key=lambda e: e.at)
    if not ordered:
        return run
    run.start = ordered[0].at
    next_tick = run.start + tick_s
    for seq, event in enumerate(ordered, 1):
        while next_tick <= event.at:
            _tick(detector, recorder, silence, home_id, next_tick, on_tick)
            next_tick += tick_s
        run.readings += 1
        reading = Reading(
            event.device_id, home_id, event.kind, event.at, event.at, seq, event.value, event.payload
        )
        recorder.take(detector.feed(reading, event.at))
        # Heard when it is handled, at the tick that follows it: through ingest (simulators/replay_ingest.py)
        # a reading arrives, and the device is last seen, at that tick.
        recorder.take(silence.heard(detector, home_id, event.device_id, next_tick))
    end = until if until is not None else ordered[-1].at + tick_s
    while next_tick <= end:
        _tick(detector, recorder, silence, home_id, next_tick, on_tick)
        next_tick += tick_s
    run.end = next_tick
    return run


def _tick(
    detector: Detector,
    recorder: Recorder,
    silence: _Silence,
    home_id: UUID,
    now: float,
    on_tick: Callable[[Detector, float], None] | None,
) -> None:
    recorder.take(silence.check(detector, home_id, now))
    recorder.take(detector.tick(now))
    if detector.training_due:
        detector.train_due(100)
    if on_tick is not None:
        on_tick(detector, now)


class _Silence:
    """The storage upkeep's heartbeat check (devices.health.mark_silent_offline), on the virtual clock."""

    def __init__(self, beats: dict[UUID, float]) -> None:
        self.beats = beats
        self.seen: dict[UUID, float] = {}
        self.offline: set[UUID] = set()

    def heard(self, detector: Detector, home_id: UUID, device: UUID, at: float) -> list[Action]:
        """A message from the device: it is online (again)."""
        self.seen[device] = at
        if device not in self.offline:
            return []
        self.offline.discard(device)
        return detector.health(HealthChange(device, home_id, "online", at), at)

    def check(self, detector: Detector, home_id: UUID, now: float) -> list[Action]:
        """Devices silent past their interval plus grace go offline, once each."""
        out: list[Action] = []
        for device, interval in self.beats.items():
            last = self.seen.get(device)
            grace = max(MIN_GRACE_S, interval * GRACE_FRACTION)
            if last is None or device in self.offline or now - last <= interval + grace:
                continue
            self.offline.add(device)
            detail = {"reason": "missed_heartbeats"}
            out += detector.health(HealthChange(device, home_id, "offline", now, detail), now)
        return out
