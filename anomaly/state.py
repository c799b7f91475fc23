"""Per-home detector state: the live picture (where is the resident, what is open) and the learned days.

The state is mutated in place by the detectors (copying it per reading would cost more than the
detection itself at ingest rates); the runtime checkpoints it as JSON and reloads it after a failure.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any
from uuid import UUID

from anomaly.model import Mode, Window

HOURS = 24


def _gaps() -> list[float]:
    return [-1.0] * HOURS  # -1: the resident was not up and about at home in that hour


@dataclass(slots=True)
class Day:
    """What one day (04:00 to 04:00) of a home looked like; the baseline learns from finished days."""

    day: int
    gaps: list[float] = field(default_factory=_gaps)  # longest quiet spell (min) touching each hour
    wake: float | None = None  # minute of day the bed emptied for the day
    bed: float | None = None  # minute of day they went to bed (may pass 1440)
    night_toilet: int = 0
    meals: int = 0
    out_min: float = 0.0
    rooms: dict[str, int] = field(default_factory=dict)
    door_hours: list[int] = field(default_factory=lambda: [0] * HOURS)
    bath_max: float = 0.0
    carer_min: float = 0.0
    activity: int = 0  # resident readings seen; a day without any is no evidence of normal
    # Night exits whose alert a person confirmed (resolved as handled): never learned as normal.
    door_confirmed: list[int] = field(default_factory=lambda: [0] * HOURS)
    evening: float | None = None  # minute of the last activity before the night's quiet (may pass 1440)
    sit_gaps: list[float] = field(default_factory=_gaps)  # as gaps, while sat on an occupied chair mat
    lone: int = 0  # readings held as lone ones in a home that looked empty (anomaly/vacancy.py)


@dataclass(slots=True)
class Baseline:
    """The learned part: recent finished days, false alarms marked by people, the model's version."""

    days: list[Day] = field(default_factory=list)
    false_alarms: dict[str, int] = field(default_factory=dict)
    feedback_seen: list[str] = field(default_factory=list)  # alert ids already learned from
    model_version: int = 0
    trained_day: int = -1

    def learned(self, limit: int) -> list[Day]:
        """The most recent `limit` days that had any resident activity."""
        return [d for d in self.days if d.activity > 0][-limit:]


@dataclass(slots=True)
class HomeState:
    """Everything the detectors know about one home between readings."""

    home_id: UUID
    tz: str = "Europe/London"
    clock: float = 0.0  # latest trusted event time seen
    last_act: float | None = None
    last_room: str = ""
    spell_ok: bool = False
    spell_seated: bool = False  # the quiet spell going on began on an occupied chair mat
    in_bed: bool = False
    beds: dict[str, float] = field(default_factory=dict)  # occupied bed mat -> since
    chairs: dict[str, float] = field(default_factory=dict)  # occupied chair mat -> since
    mat_rooms: dict[str, str] = field(default_factory=dict)  # mat -> its room
    bedless: bool = False  # no bed sensor in the kit: sleep is inferred (anomaly/presence.py)
    blind: list[str] = field(default_factory=list)  # rooms with sensors but no motion sensor
    confirmable: bool = True  # two or more activity sensors: a lone reading can be confirmed
    lone_at: float | None = None  # a lone reading held after a long quiet (anomaly/vacancy.py)
    lone_dev: str = ""
    lone_seen: int = 0  # readings of the held device since lone_at
    lone_last: float = 0.0  # the latest of them
    door_open: bool = False  # the front door's last reading said open (it may be left open)
    wake_seen: int = 0  # readings after a bedless home's first morning activity (confirms the wake)
    bed_at: float = 0.0
    bed_candidate: float | None = None
    wake_pending: float | None = None
    up_today: bool = False
    door_at: float | None = None
    moved_since_door: bool = True
    exit_pending: float | None = None  # a night exit from the chair, waiting to see them gone (exits.py)
    bath_since: float | None = None
    bath_left: float = 0.0  # when the bathroom door last ended a stay (closing it behind them follows)
    last_meal: float = 0.0
    carer_tags: dict[str, float] = field(default_factory=dict)
    carer_until: float = 0.0
    windows: list[Window] = field(default_factory=list)
    open: dict[str, float] = field(default_factory=dict)  # dedupe key -> detector time raised
    cooldown: dict[str, float] = field(default_factory=dict)  # dedupe key -> not before
    falls: dict[str, list[float]] = field(default_factory=dict)  # key -> [at, seq, escalated]
    temps: dict[str, list[float | None]] = field(default_factory=dict)  # room -> [cold since, hot since]
    offline: dict[str, float] = field(default_factory=dict)  # device id -> offline since
    hubs_down: dict[str, float] = field(default_factory=dict)  # home hub id -> its link down since
    lag: float = 0.0  # how far the home's readings are behind: its clock is the wall clock minus this
    live_at: float = 0.0  # detector time a reading arrived on time (from live_dev)
    live_dev: str = ""
    links: dict[str, list[float]] = field(default_factory=dict)  # device id -> [arrived, lag, skew]
    today: Day = field(default_factory=lambda: Day(0))
    baseline: Baseline = field(default_factory=Baseline)

    def carer_present(self, t: float) -> bool:
        """A carer is in the home (checked in, just left, or inside an explicit window)."""
        if self.carer_tags or t < self.carer_until:
            return True
        return any(w.start <= t < w.end for w in self.windows)

    def is_out(self, t: float, after_door_s: float) -> bool:
        """Out of the house: the front door was used and nothing has moved inside since."""
        return self.door_at is not None and not self.moved_since_door and t - self.door_at > after_door_s

    def mode(self, min_days: int) -> Mode:
        """'learned' once enough days of history exist, else 'defaults'."""
        return "learned" if len(self.baseline.learned(10_000)) >= min_days else "defaults"

    def cooling(self, key: str, t: float) -> bool:
        """True while the key is in its cooldown after an automatic clear."""
        return t < self.cooldown.get(key, 0.0)


def _dump(value: Any) -> Any:
    if isinstance(value, Day | Baseline | Window):
        return {f.name: _dump(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, list):
        return [_dump(v) for v in value]
    if isinstance(value, dict):
        return {k: _dump(v) for k, v in value.items()}
    return value


def _day(data: dict[str, Any]) -> Day:
    return Day(**data)


def dump_live(state: HomeState) -> dict[str, Any]:
    """The fast-changing part of the state as JSON-ready data."""
    skip = {"home_id", "baseline"}
    return {f.name: _dump(getattr(state, f.name)) for f in fields(state) if f.name not in skip}


def dump_baseline(baseline: Baseline) -> dict[str, Any]:
    """The learned part as JSON-ready data."""
    data: dict[str, Any] = _dump(baseline)
    return data


def load_state(home_id: UUID, live: dict[str, Any] | None, baseline: dict[str, Any] | None) -> HomeState:
    """Rebuild a home's state from its checkpoint."""
    state = HomeState(home_id)
    if baseline:
        days = [_day(d) for d in baseline.get("days", [])]
        state.baseline = Baseline(
            days=days,
            false_alarms=dict(baseline.get("false_alarms", {})),
            feedback_seen=list(baseline.get("feedback_seen", [])),
            model_version=int(baseline.get("model_version", 0)),
            trained_day=int(baseline.get("trained_day", -1)),
        )
    for name, value in (live or {}).items():
        if name == "today":
            state.today = _day(value)
        elif name == "windows":
            state.windows = [Window(**w) for w in value]
        elif hasattr(state, name):
            setattr(state, name, value)
    return state
