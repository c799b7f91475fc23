"""Device health folded from the messages a device sends: last seen, battery, signal, online or not.

The fold is pure; `apply_batch` reads the current rows, folds a committed batch into them and writes
the result and any health events in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg

from devices import queries

LOW_BATTERY_PCT = 20
# Hysteresis: a battery hovering around the threshold must not flap between low and ok.
BATTERY_OK_PCT = 25
MIN_GRACE = timedelta(seconds=30)
GRACE_FRACTION = 0.2


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


def fold(health: Health, observations: Iterable[Observation]) -> tuple[Health, list[HealthEvent]]:
    """Apply messages (in arrival order) to a device's health; return the new health and its events."""
    events: list[HealthEvent] = []
    for obs in sorted(observations, key=lambda o: o.received_at):
        health = replace(health, last_seen_at=obs.received_at, last_event_at=obs.time)
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
    return health, events


def _status(health: Health, obs: Observation) -> tuple[Health, list[HealthEvent]]:
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


async def apply_batch(conn: asyncpg.Connection, observations: Sequence[Observation]) -> list[HealthEvent]:
    """Fold a committed batch into device_health (inside the caller's transaction); returns the events."""
    by_device: dict[UUID, list[Observation]] = {}
    for obs in observations:
        by_device.setdefault(obs.device_id, []).append(obs)
    if not by_device:
        return []
    current = await queries.lock_health(conn, device_ids=sorted(by_device))
    updated, events = [], []
    for device_id, items in by_device.items():
        row = current.get(device_id)
        health = Health(**row) if row else Health(device_id, items[0].home_id)
        health, new_events = fold(health, items)
        updated.append(health)
        events += new_events
    await queries.upsert_health(conn, rows=[_row(h) for h in updated])
    await queries.insert_health_events(
        conn, rows=[(e.device_id, e.home_id, e.kind, e.at, e.detail) for e in events]
    )
    return events


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
