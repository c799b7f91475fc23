"""Public data of the home simulator: device events, ground-truth incidents, carer visits, streams."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import orjson

from devices.contract import MessageKind

INCIDENT_KINDS: tuple[str, ...] = (
    "alarm_pressed",
    "fall",
    "fall_cancelled",
    "inactivity",
    "not_up",
    "night_wandering",
    "bathroom_long",
    "cold_home",
    "water_leak",
    "smoke",
    "device_offline",
    "low_battery",
    "missed_visit",
)


@dataclass(slots=True, frozen=True)
class SimEvent:
    """One device message: device, kind, device-clock time and payload fields other than ts and seq.

    `at` is what the device writes in `ts`, so it already includes the device's clock skew; `skew_s`
    says by how much, so that `true_at` is when it really happened. `seq` is the device's own sequence
    number (from 1; a publisher may add a per-device base). A `duplicate` repeats an earlier event's seq.
    """

    at: datetime
    device_key: str
    kind: MessageKind
    fields: dict[str, Any]
    delivery_delay_s: float = 0.0
    duplicate: bool = False
    seq: int = 0
    skew_s: float = 0.0

    @property
    def true_at(self) -> datetime:
        """When the event happened in reality (the device time without its clock skew)."""
        return self.at - timedelta(seconds=self.skew_s)

    @property
    def publish_at(self) -> datetime:
        """When the device intends to publish: the real time plus any delivery delay."""
        return self.true_at + timedelta(seconds=self.delivery_delay_s)

    def payload(self, seq_offset: int = 0) -> dict[str, Any]:
        """The contract payload: the fields plus ts and seq (both shifted by seq_offset if given)."""
        body = {**self.fields, "ts": self.at.isoformat(), "seq": self.seq + seq_offset}
        if "cancels_seq" in body:
            body["cancels_seq"] = body["cancels_seq"] + seq_offset
        return body

    def payload_bytes(self, seq_offset: int = 0) -> bytes:
        """The payload as JSON bytes, ready to publish."""
        return orjson.dumps(self.payload(seq_offset))


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(slots=True, frozen=True)
class Incident:
    """Ground truth: something the backend should notice happened in a home between start and end."""

    home: str
    kind: str
    start: datetime
    end: datetime
    device_key: str | None = None
    detail: str = ""

    def to_json_line(self) -> str:
        """One JSON object on one line, times in UTC."""
        data = {
            "home": self.home,
            "kind": self.kind,
            "start": _iso(self.start),
            "end": _iso(self.end),
            "device_key": self.device_key,
            "detail": self.detail,
        }
        return orjson.dumps(data).decode()

    @classmethod
    def from_json_line(cls, line: str) -> Incident:
        """Read back what to_json_line wrote."""
        data = orjson.loads(line)
        return cls(
            home=data["home"],
            kind=data["kind"],
            start=datetime.fromisoformat(data["start"]),
            end=datetime.fromisoformat(data["end"]),
            device_key=data.get("device_key"),
            detail=data.get("detail", ""),
        )


@dataclass(slots=True, frozen=True)
class Fix:
    """A phone's location fix: where it says it is and how sure it is (metres)."""

    latitude: float
    longitude: float
    accuracy_m: float


@dataclass(slots=True, frozen=True)
class CheckRecord:
    """A carer's check-in or check-out: its time, tag or phone, the phone's fix, and how late it is sent."""

    at: datetime
    method: str  # tag or phone
    fix: Fix | None = None
    delay_s: float = 0.0  # a phone that was offline sends its check this long after making it


@dataclass(slots=True, frozen=True)
class VisitRecord:
    """A planned carer visit and what actually happened (actual times are None when nobody came in).

    `checks` is (check-in, check-out) as the carer recorded them, when simulators/checkins.py drew them;
    a check-in by phone from the street has checks but no actual times.
    """

    home: str
    slot: str
    tag_id: str
    planned_start: datetime
    planned_end: datetime
    actual_start: datetime | None
    actual_end: datetime | None
    # on_time, late, short, late_short or missed; with check-ins drawn also no_checkout, unverified.
    outcome: str
    checks: tuple[CheckRecord | None, CheckRecord | None] = (None, None)

    @property
    def missed(self) -> bool:
        """True when nobody came and nobody checked in."""
        return self.actual_start is None and self.checks[0] is None

    def tapped(self, which: int) -> bool:
        """Whether the check-in (0) or check-out (1) was a tap on the home's reader (the default)."""
        if self.checks == (None, None):
            return True
        check = self.checks[which]
        return check is not None and check.method == "tag"


@dataclass(slots=True, frozen=True)
class StrayTap:
    """A carer's tag tapped at a home that is not on their round (they came to the wrong door)."""

    home: str
    tag_id: str
    at: datetime


@dataclass(slots=True, frozen=True)
class ScenarioItem:
    """An incident to inject: its kind, the day (0 = start date), optionally local time, length, device."""

    kind: str
    day: int
    at: time | None = None
    duration_min: float | None = None
    device_key: str | None = None


@dataclass(slots=True, frozen=True)
class HomeStream:
    """Everything one simulated home produced: events by intended publish time, labels and visits."""

    home_name: str
    layout: str
    profile: str
    events: list[SimEvent]
    incidents: list[Incident]
    visits: list[VisitRecord]
    tz: str
    start: date
    days: int
    location: tuple[float, float] | None = None  # latitude, longitude (when carers' check-ins are drawn)
    strays: list[StrayTap] = field(default_factory=list)  # other homes' carers' taps here (labels)
