"""The streaming detector, without any I/O: readings, health changes and clock ticks in, actions out.

The runtime (anomaly/service.py) and the evaluation (bench/evaluation/evaluation.py) both drive this class; it
keeps every home's state and knows which homes changed since the last checkpoint. Each home is judged by
its own clock (anomaly/lag.py), which falls behind the wall clock while a backlog of its readings drains;
what it decides is stamped with the wall clock.
"""

from __future__ import annotations

from dataclasses import replace
from uuid import UUID

from anomaly import behaviour, hub, immediate, lag, presence
from anomaly.clock import LocalClock, day_iso
from anomaly.config import DetectorConfig
from anomaly.daymodel import DayModel, explain, train
from anomaly.model import ACTIVITY_KINDS, Action, Device, HealthChange, Raise, Reading, Window, signal
from anomaly.state import Day, HomeState

_IGNORED = frozenset({"heartbeat", "status", "presence", "humidity"})


class Detector:
    """Every home's detectors, fed in commit order and ticked by a clock."""

    def __init__(self, config: DetectorConfig) -> None:
        self.cfg = config
        self.homes: dict[UUID, HomeState] = {}
        self.devices: dict[UUID, Device] = {}
        self.home_devices: dict[UUID, dict[str, Device]] = {}
        self.clocks: dict[UUID, LocalClock] = {}
        self.models: dict[UUID, DayModel] = {}
        self.dirty: set[UUID] = set()
        self.baseline_dirty: set[UUID] = set()
        self.training_due: set[UUID] = set()

    def add_home(self, home_id: UUID, tz: str, state: HomeState | None = None) -> HomeState:
        """Start watching a home (from its checkpointed state, if there is one)."""
        st = state or HomeState(home_id, tz=tz)
        st.tz = tz
        self.homes[home_id] = st
        self.clocks[home_id] = LocalClock(tz)
        kit = self.home_devices.setdefault(home_id, {})
        if kit:
            presence.kit_state(st, kit.values())
        return st

    def add_device(self, device: Device) -> None:
        """Know a device (its home must have been added)."""
        self.devices[device.device_id] = device
        kit = self.home_devices.setdefault(device.home_id, {})
        kit[str(device.device_id)] = device
        st = self.homes.get(device.home_id)
        if st is not None:
            presence.kit_state(st, kit.values())

    def kit_notes(self, home_id: UUID) -> list[str]:
        """What the detector cannot judge (or only infers) in this home, given its sensors."""
        st = self.homes.get(home_id)
        if st is None:
            return []
        return presence.kit_notes(st, self.home_devices.get(home_id, {}).values())

    def feed(self, r: Reading, now: float | None = None) -> list[Action]:
        """One committed reading; `now` is the detector's clock (default: the reading's arrival)."""
        st = self.homes.get(r.home_id)
        if st is None:
            return []
        wall = r.received if now is None else now
        # Every message, heartbeats too, tells how late this home's link is.
        held = st.lag
        lag.observe(st, r, wall, self.cfg)
        if st.lag != held:
            self.dirty.add(st.home_id)
        dev = self.devices.get(r.device_id)
        if r.kind in _IGNORED or dev is None:
            return []
        now = lag.home_time(st, wall)
        clock = self.clocks[r.home_id]
        t = r.when
        st.clock = max(st.clock, t)
        # A reading from a clock running ahead must not close the day early.
        out = self._roll(st, clock, min(t, now + 300))
        self.dirty.add(st.home_id)
        kind = r.kind
        if kind in ("alarm", "fall"):
            out += immediate.on_alarm(st, r, dev, clock, now)
        elif kind == "alarm_cancel":
            out += immediate.on_cancel(st, r, dev, clock, now)
        elif kind in ("smoke", "water_leak"):
            out += immediate.on_hazard(st, r, dev, clock, now)
        elif kind == "temperature":
            out += immediate.on_temperature(st, r, dev, self.cfg, clock, now)
        elif kind == "tag":
            self._tag(st, str(r.payload.get("tag_id", "")), t)
        elif kind in ACTIVITY_KINDS:
            out += behaviour.on_activity(st, r, dev, self.cfg, clock, now)
        return _stamped(out, wall) if st.lag else out

    def health(self, ev: HealthChange, now: float | None = None) -> list[Action]:
        """A device health event (online, offline, low_battery, battery_ok)."""
        st = self.homes.get(ev.home_id)
        if st is None:
            return []
        self.dirty.add(st.home_id)
        dev = self.devices.get(ev.device_id)
        wall = ev.at if now is None else now
        clock, now = self.clocks[ev.home_id], lag.home_time(st, wall)
        if hub.is_hub_link(dev, ev):  # a home hub's link: one alert for the home (anomaly/hub.py)
            out = hub.on_health(st, ev, clock, now)
        else:
            out = immediate.on_health(st, ev, dev, clock, now)
        return _stamped(out, wall) if st.lag else out

    def tick(self, now: float) -> list[Action]:
        """The clock: silence can raise alerts too (inactivity, not up, offline, a fall without movement)."""
        out: list[Action] = []
        for home_id, st in self.homes.items():
            found = self._tick_home(st, lag.home_time(st, now))
            if found:
                out += _stamped(found, now) if st.lag else found
                self.dirty.add(home_id)
        return out

    def _tick_home(self, st: HomeState, now: float) -> list[Action]:
        """One home's silence judged by its own clock (behind the wall clock while a backlog drains)."""
        clock = self.clocks[st.home_id]
        out = self._roll(st, clock, now)
        for tag, since in list(st.carer_tags.items()):
            if now - since > self.cfg.carer_max_s:
                del st.carer_tags[tag]
        if st.falls:
            out += immediate.escalate_falls(st, self.cfg, clock, now)
        if st.offline:
            out += immediate.check_offline(st, self.home_devices[st.home_id], self.cfg, clock, now)
        if st.hubs_down:
            out += hub.check(st, self.home_devices[st.home_id], self.cfg, clock, now)
        if not hub.link_down(st):  # while the hub is down silence is no data, not no movement
            out += behaviour.check_clock(st, self.cfg, clock, now)
        return out

    def set_windows(self, home_id: UUID, windows: list[Window]) -> None:
        """Explicit carer windows for a home (from the visits API); replaces the previous ones."""
        st = self.homes.get(home_id)
        if st is not None and st.windows != windows:
            st.windows = windows
            self.dirty.add(home_id)

    def false_alarm(self, home_id: UUID, kind: str, alert_id: str = "") -> None:
        """A person marked one of this home's alerts a false alarm: be less eager for that kind."""
        st = self.homes.get(home_id)
        if st is None or (alert_id and alert_id in st.baseline.feedback_seen):
            return
        if alert_id:
            st.baseline.feedback_seen = [*st.baseline.feedback_seen, alert_id][-50:]
        st.baseline.false_alarms[kind] = st.baseline.false_alarms.get(kind, 0) + 1
        self.baseline_dirty.add(home_id)
        self.dirty.add(home_id)

    def confirmed(self, home_id: UUID, kind: str, at: float, alert_id: str = "") -> None:
        """A person confirmed an alert (resolved it as handled): a night exit is never learned as normal."""
        st = self.homes.get(home_id)
        if st is None or kind != "night_wandering" or (alert_id and alert_id in st.baseline.feedback_seen):
            return
        if alert_id:
            st.baseline.feedback_seen = [*st.baseline.feedback_seen, alert_id][-50:]
        clock = self.clocks[home_id]
        number, hour = clock.day(at, self.cfg.day_start_min), clock.hour(at)
        for day in [st.today, *st.baseline.days]:
            if day.day == number and day.door_hours[hour] > day.door_confirmed[hour]:
                day.door_confirmed[hour] += 1
                self.baseline_dirty.add(home_id)
                self.dirty.add(home_id)
                return

    def forget(self, home_id: UUID, key: str) -> None:
        """A person resolved the alert of this condition: a new occurrence may raise a new alert."""
        st = self.homes.get(home_id)
        if st is not None and (st.open.pop(key, None) is not None or st.falls.pop(key, None) is not None):
            self.dirty.add(home_id)

    def train_due(self, limit: int) -> list[tuple[UUID, DayModel]]:
        """Train up to `limit` homes' day models that are due; returns the new models to store."""
        trained = []
        for home_id in sorted(self.training_due)[:limit]:
            self.training_due.discard(home_id)
            st = self.homes[home_id]
            days = st.baseline.learned(self.cfg.history_days)
            if len(days) < max(self.cfg.min_history_days, self.cfg.day_model_min_days):
                continue
            version = st.baseline.model_version + 1
            model = train(days, version=version, trained_day=st.today.day, margin=self.cfg.unusual_margin)
            st.baseline.model_version = version
            st.baseline.trained_day = st.today.day
            self.models[home_id] = model
            self.baseline_dirty.add(home_id)
            self.dirty.add(home_id)
            trained.append((home_id, model))
        return trained

    def _tag(self, st: HomeState, tag: str, t: float) -> None:
        """A carer's tag on the door reader: the first tap checks in, the next one checks out."""
        if tag in st.carer_tags:
            del st.carer_tags[tag]
            st.carer_until = max(st.carer_until, t + self.cfg.carer_grace_s)
            st.bath_since = None  # the carer's movements say nothing of where the resident is
        else:
            st.carer_tags[tag] = t

    def _roll(self, st: HomeState, clock: LocalClock, t: float) -> list[Action]:
        """Close the home's day when a new one (from 04:00) begins; learn from it and judge it."""
        day = clock.day(t, self.cfg.day_start_min)
        if day <= st.today.day:
            return []
        finished = st.today
        st.today = Day(day)
        st.up_today = False
        st.wake_pending = None
        self.dirty.add(st.home_id)
        if finished.day == 0:
            return []
        st.baseline.days = [*st.baseline.days, finished][-(self.cfg.history_days + 14) :]
        self.baseline_dirty.add(st.home_id)
        learned = len(st.baseline.learned(self.cfg.history_days))
        enough = max(self.cfg.min_history_days, self.cfg.day_model_min_days)
        if learned >= enough and day - st.baseline.trained_day >= self.cfg.retrain_days:
            self.training_due.add(st.home_id)
        return self._judge_day(st, finished, t)

    def _judge_day(self, st: HomeState, day: Day, now: float) -> list[Action]:
        model = self.models.get(st.home_id)
        if model is None or day.activity == 0:
            return []
        score, scaled = model.score(day)
        margin = 0.02 * min(4, st.baseline.false_alarms.get("unusual_day", 0))
        if score >= model.threshold - margin:
            return []
        reasons = explain(model, day, scaled)
        date = day_iso(day.day)
        text = (
            f"{date} was unlike this person's normal days: {'; '.join(reasons)}. "
            f"Compared with a model of the last {model.n_days} days (version {model.version})."
        )
        evidence = [
            {
                "day": date,
                "score": round(score, 3),
                "threshold": round(model.threshold, 3),
                "model_version": model.version,
                "reasons": reasons,
            }
        ]
        sig = signal(
            st.home_id,
            "unusual_day",
            "medium",
            f"unusual_day:{date}",
            now,
            f"An unusual day ({date})",
            text,
            evidence,
        )
        return [Raise(sig, now)]


def _stamped(actions: list[Action], wall: float) -> list[Action]:
    """Actions judged on a lagging home's clock, stamped with the wall-clock time they were decided."""
    return [replace(a, at=wall) for a in actions]
