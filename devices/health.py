"""Device health folded from the messages a device sends: last seen, battery, signal, online or not.

The fold is pure; a `HealthKeeper` (one per ingest worker) locks the rows that a batch changes, folds
the batch into them and writes the result and any health events in the caller's transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from uuid import UUID

import asyncpg

from devices import queries

log = logging.getLogger(__name__)

LOW_BATTERY_PCT = 20
# Hysteresis: a battery hovering around the threshold must not flap between low and ok.
BATTERY_OK_PCT = 25
MIN_GRACE = timedelta(seconds=30)
GRACE_FRACTION = 0.2
# How stale last_seen_at may be left for a device that keeps sending: well below MIN_GRACE, so the
# heartbeat check never takes a device offline because its last messages were not written yet. A
# device whose type's grace is longer may be left a third of its grace (a motion sensor, 3600 s
# heartbeat and 720 s grace: 240 s), so a quiet fleet's every message does not rewrite its row.
LAST_SEEN_EVERY = timedelta(seconds=10)
LAST_SEEN_GRACE_SHARE = 1 / 3
# The only kinds that can change more than when a device was last seen.
STATE_KINDS = frozenset({"presence", "status"})


class Observed(Protocol):
    """What the fold reads from a stored message: an Observation, or anything with the same attributes."""

    @property
    def device_id(self) -> UUID:
        """The device that sent it."""

    @property
    def home_id(self) -> UUID:
        """The device's home."""

    @property
    def received_at(self) -> datetime:
        """When it reached the backend (our clock)."""

    @property
    def time(self) -> datetime:
        """The device's own time of the message."""

    @property
    def kind(self) -> str:
        """The message kind (the topic's last segment)."""

    @property
    def payload(self) -> dict[str, Any]:
        """The message as decoded JSON."""


@dataclass(frozen=True, slots=True)
class Observation:
    """What the health fold needs from one stored message."""

    device_id: UUID
    home_id: UUID
    received_at: datetime
    time: datetime
    kind: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Health:
    """A device's current health."""

    device_id: UUID
    home_id: UUID
    last_seen_at: datetime | None = None
    last_event_at: datetime | None = None
    battery_pct: int | None = None
    rssi_dbm: int | None = None
    firmware: str | None = None
    uptime_s: int | None = None
    online: bool = False
    online_changed_at: datetime | None = None
    offline_reason: str | None = "never_seen"
    low_battery: bool = False


@dataclass(frozen=True, slots=True)
class HealthEvent:
    """A change the detector should hear about."""

    device_id: UUID
    home_id: UUID
    kind: str
    at: datetime
    detail: dict[str, Any]


def grace_for(interval: timedelta) -> timedelta:
    """How long past its heartbeat interval a device may be silent before it counts as offline."""
    return max(MIN_GRACE, interval * GRACE_FRACTION)


def fold(health: Health, observations: Iterable[Observed]) -> tuple[Health, list[HealthEvent]]:
    """Apply messages (in arrival order) to a device's health; return the new health and its events."""
    events: list[HealthEvent] = []
    last = None
    for obs in sorted(observations, key=_arrival):
        last = obs
        going_offline = obs.kind == "presence" and obs.payload.get("state") == "offline"
        if going_offline and health.online:
            health = replace(
                health, online=False, online_changed_at=obs.received_at, offline_reason="disconnected"
            )
            events.append(_event(health, "offline", obs.received_at, reason="disconnected"))
        elif not going_offline and not health.online:
            was = health.offline_reason
            health = replace(health, online=True, online_changed_at=obs.received_at, offline_reason=None)
            events.append(_event(health, "online", obs.received_at, after=was))
        if obs.kind == "status":
            health, battery_events = _status(health, obs)
            events += battery_events
    if last is not None:
        health = replace(health, last_seen_at=last.received_at, last_event_at=last.time)
    return health, events


def _arrival(obs: Observed) -> datetime:
    return obs.received_at


def _status(health: Health, obs: Observed) -> tuple[Health, list[HealthEvent]]:
    p = obs.payload
    health = replace(
        health,
        battery_pct=p.get("battery", health.battery_pct),
        rssi_dbm=p.get("rssi_dbm", health.rssi_dbm),
        firmware=p.get("firmware", health.firmware),
        uptime_s=p.get("uptime_s", health.uptime_s),
    )
    battery = p.get("battery")
    if battery is None:
        return health, []
    if battery < LOW_BATTERY_PCT and not health.low_battery:
        health = replace(health, low_battery=True)
        return health, [_event(health, "low_battery", obs.time, battery=battery)]
    if battery >= BATTERY_OK_PCT and health.low_battery:
        health = replace(health, low_battery=False)
        return health, [_event(health, "battery_ok", obs.time, battery=battery)]
    return health, []


def _event(health: Health, kind: str, at: datetime, **detail: Any) -> HealthEvent:
    return HealthEvent(health.device_id, health.home_id, kind, at, detail)


@dataclass(frozen=True, slots=True)
class Known:
    """What a worker last wrote for a device: whether it was online, and its last_seen_at."""

    online: bool
    seen: datetime


@dataclass(frozen=True, slots=True)
class HealthUpdate:
    """What one batch did to device health: its events, and what the keeper learns once it commits."""

    events: list[HealthEvent] = field(default_factory=list)
    known: dict[UUID, Known] = field(default_factory=dict)


class HealthKeeper:
    """Device health upkeep for one ingest worker, cheap for the usual batch.

    A device this worker last wrote as online, sending nothing but ordinary readings, changes nothing
    but when it was last seen; that is written at most every `last_seen_every` per device. Every other
    device in a batch (not known here, offline, a presence or status message, last seen written too
    long ago) is locked, folded from its row and written, with its events, in the batch's transaction.
    The skipped devices are checked to be still online in the database (another worker or the
    heartbeat check may have changed them); any that is not is folded and written too.
    """

    def __init__(
        self,
        *,
        last_seen_every: timedelta = LAST_SEEN_EVERY,
        max_devices: int = 2_000_000,
        interval_of: Callable[[UUID], float | None] | None = None,
    ) -> None:
        self._every = last_seen_every.total_seconds()
        self._max_devices = max_devices
        self._interval_of = interval_of
        # id's integer -> when last seen as written (epoch s), for devices last written online only:
        # a float per device, since a fleet's worker keeps a million of them.
        self._known: dict[int, float] = {}

    def every_s(self, device_id: UUID) -> float:
        """How long this device's last_seen_at may be left unwritten while it keeps sending."""
        interval = self._interval_of(device_id) if self._interval_of is not None else None
        if interval is None:
            return self._every
        return max(
            self._every, grace_for(timedelta(seconds=interval)).total_seconds() * LAST_SEEN_GRACE_SHARE
        )

    async def apply(self, conn: asyncpg.Connection, observations: Sequence[Observed]) -> HealthUpdate:
        """Fold a batch into device_health in the caller's transaction; `learn` the result once committed."""
        by_device: dict[UUID, list[Observed]] = {}
        for obs in observations:
            items = by_device.get(obs.device_id)
            if items is None:
                by_device[obs.device_id] = [obs]
            else:
                items.append(obs)
        if not by_device:
            return HealthUpdate()
        quiet: list[UUID] = []
        touch: dict[UUID, Observed] = {}
        loud: list[UUID] = []
        for device, items in by_device.items():
            if self._is_quiet(device, items):
                quiet.append(device)
            elif all(obs.kind not in STATE_KINDS for obs in items):
                touch[device] = max(items, key=_arrival)
            else:
                loud.append(device)
        # Ordinary readings of a device not known here (or last written long ago): if the row says
        # online, only when it was seen changes, written without reading and folding the row first.
        touched = await queries.touch_online(
            conn, rows=[(d, o.received_at, o.time) for d, o in touch.items()]
        )
        loud += [device for device in touch if device not in touched]
        current = await queries.lock_health(conn, device_ids=loud, if_offline=quiet)
        for device in quiet:
            if device not in current:  # still online: nothing to write
                del by_device[device]
        for device in touched:
            del by_device[device]
        update = await _fold_and_write(conn, by_device, current)
        update.known.update({device: Known(True, touch[device].received_at) for device in touched})
        return update

    def _is_quiet(self, device_id: UUID, items: list[Observed]) -> bool:
        seen = self._known.get(device_id.int)
        if seen is None:
            return False
        if max(obs.received_at for obs in items).timestamp() - seen > self.every_s(device_id):
            return False
        return all(obs.kind not in STATE_KINDS for obs in items)

    def learn(self, update: HealthUpdate) -> None:
        """Remember what a batch wrote; only once its transaction has committed."""
        if len(self._known) + len(update.known) > self._max_devices:
            self._known.clear()  # a device not known here is simply written again
        known = self._known
        for device_id, k in update.known.items():
            if k.online:
                known[device_id.int] = k.seen.timestamp()
            else:
                known.pop(device_id.int, None)


async def _fold_and_write(
    conn: asyncpg.Connection, by_device: dict[UUID, list[Observed]], current: dict[UUID, dict[str, Any]]
) -> HealthUpdate:
    if not by_device:
        return HealthUpdate()
    # In the database's uuid order, so that two transactions inserting new rows cannot deadlock.
    device_ids = sorted(by_device, key=_uuid_order)
    updated: list[Health] = []
    events: list[HealthEvent] = []
    for device_id in device_ids:
        items = by_device[device_id]
        row = current.get(device_id)
        health, new_events = fold(Health(**row) if row else Health(device_id, items[0].home_id), items)
        updated.append(health)
        events += new_events
    await queries.upsert_health(conn, rows=[_row(h) for h in updated])
    await queries.insert_health_events(
        conn, rows=[(e.device_id, e.home_id, e.kind, e.at, e.detail) for e in events]
    )
    known = {h.device_id: Known(h.online, h.last_seen_at) for h in updated if h.last_seen_at is not None}
    return HealthUpdate(events, known)


def _uuid_order(device_id: UUID) -> int:
    return device_id.int  # what UUID.__lt__ compares, without a Python call per comparison


def _row(h: Health) -> tuple[Any, ...]:
    return (
        h.device_id,
        h.home_id,
        h.last_seen_at,
        h.last_event_at,
        h.battery_pct,
        h.rssi_dbm,
        h.firmware,
        h.uptime_s,
        h.online,
        h.online_changed_at,
        h.offline_reason,
        h.low_battery,
    )


async def mark_silent_offline(conn: asyncpg.Connection, *, now: datetime) -> list[HealthEvent]:
    """Devices silent past their type's heartbeat interval plus grace go offline, with an event each."""
    rows = await queries.mark_silent_offline(
        conn, now=now, grace_fraction=GRACE_FRACTION, min_grace_s=MIN_GRACE.total_seconds()
    )
    events = [
        HealthEvent(
            r["device_id"],
            r["home_id"],
            "offline",
            now,
            {"reason": "missed_heartbeats", "last_seen_at": r["last_seen_at"].isoformat()},
        )
        for r in rows
    ]
    await queries.insert_health_events(
        conn, rows=[(e.device_id, e.home_id, e.kind, e.at, e.detail) for e in events]
    )
    return events


async def check_heartbeats(pool: asyncpg.Pool) -> None:
    """One pass of the heartbeat check: mark devices offline that missed their heartbeats, and say so."""
    async with pool.acquire() as conn, conn.transaction():
        events = await mark_silent_offline(conn, now=datetime.now(UTC))
    for event in events:
        log.info("device %s offline: %s", event.device_id, event.detail["reason"])
