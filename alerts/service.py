"""The alert lifecycle: raise or fold a condition, acknowledge, assign, resolve; every step in history.

Each change bumps the alert's version, appends to `alert_events` and notifies `alerts.queries.CHANNEL`
in the same transaction, so listeners in any process hear of exactly the changes that committed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

import asyncpg
import orjson

from accounts.members import member_of
from accounts.tenancy import Role, Scope, Viewer
from alerts import queries
from alerts.errors import AlertNotFound, AlertStateError, UnknownKind

Severity = Literal["critical", "high", "medium", "low"]
Status = Literal["open", "acknowledged", "resolved"]
Resolution = Literal["cleared", "cancelled", "handled", "false_alarm"]
ActorKind = Literal["detector", "user", "api_key", "system"]


@dataclass(frozen=True, slots=True)
class Actor:
    """Who made a change: the detector, a person (user id) or an integration (API key id)."""

    kind: ActorKind
    id: UUID | None = None
    name: str = ""


DETECTOR = Actor("detector", name="detector")


@dataclass(frozen=True, slots=True)
class Signal:
    """A detector's finding: raises an alert, or is folded into the unresolved one with the same key."""

    home_id: UUID
    kind: str
    severity: Severity
    dedupe_key: str
    triggered_at: datetime
    title: str
    explanation: str
    evidence: list[dict[str, Any]] = field(default_factory=list)
    device_id: UUID | None = None
    room: str | None = None
    source: str = "detector"


@dataclass(frozen=True, slots=True)
class Alert:
    """An alert as stored."""

    id: UUID
    home_id: UUID
    organisation_id: UUID
    kind: str
    severity: str
    status: str
    dedupe_key: str
    device_id: UUID | None
    room: str | None
    title: str
    explanation: str
    evidence: list[dict[str, Any]]
    triggered_at: datetime
    last_seen_at: datetime
    occurrences: int
    assigned_to: UUID | None
    acknowledged_at: datetime | None
    acknowledged_by: UUID | None
    resolved_at: datetime | None
    resolved_by: UUID | None
    resolution: str | None
    resolution_note: str | None
    source: str
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> Alert:
        """Build from an `alerts` row (extra columns ignored)."""
        return cls(**{name: row[name] for name in cls.__slots__})


@dataclass(frozen=True, slots=True)
class Change:
    """What raise_or_update did: `raised`, `updated` or `escalated`."""

    alert: Alert
    action: str


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """One step in an alert's history."""

    id: int
    alert_id: UUID
    at: datetime
    action: str
    actor_kind: str
    actor_id: UUID | None
    actor_name: str
    detail: dict[str, Any]


async def raise_or_update(conn: asyncpg.Connection, signal: Signal, *, actor: Actor = DETECTOR) -> Change:
    """Open an alert for the signal's condition, or fold the signal into the unresolved one."""
    async with conn.transaction():
        row = await queries.upsert_open(
            conn,
            home_id=signal.home_id,
            kind=signal.kind,
            severity=signal.severity,
            dedupe_key=signal.dedupe_key,
            triggered_at=signal.triggered_at,
            title=signal.title,
            explanation=signal.explanation,
            evidence=signal.evidence,
            device_id=signal.device_id,
            room=signal.room,
            source=signal.source,
        )
        if row is None:
            raise AlertNotFound(f"home {signal.home_id} does not exist")
        alert = Alert.from_row(row)
        if row["inserted"]:
            action = "raised"
        elif row["previous_severity"] != alert.severity:
            action = "escalated"
        else:
            action = "updated"
        detail = {"severity": alert.severity, "at": signal.triggered_at.isoformat()}
        await _record(conn, alert, action, actor, detail)
        return Change(alert, action)


async def clear(
    conn: asyncpg.Connection,
    *,
    home_id: UUID,
    dedupe_key: str,
    at: datetime,
    note: str,
    resolution: Resolution = "cleared",
    actor: Actor = DETECTOR,
) -> Alert | None:
    """Resolve the condition's unresolved alert because it cleared (or was cancelled); None if none."""
    async with conn.transaction():
        row = await queries.get_unresolved(conn, home_id=home_id, dedupe_key=dedupe_key)
        if row is None:
            return None
        return await _resolve(conn, row["id"], actor=actor, at=at, resolution=resolution, note=note)


async def acknowledge(
    conn: asyncpg.Connection, *, alert_id: UUID, actor: Actor, note: str | None = None
) -> Alert:
    """Someone has seen the alert and is dealing with it; acknowledging twice changes nothing."""
    async with conn.transaction():
        current = await _locked(conn, alert_id)
        if current.status == "resolved":
            raise AlertStateError("the alert is already resolved")
        if current.status == "acknowledged":
            return current
        alert = Alert.from_row(await queries.set_acknowledged(conn, alert_id=alert_id, by=actor.id))
        await _record(conn, alert, "acknowledged", actor, {"note": note} if note else {})
        return alert


async def resolve(
    conn: asyncpg.Connection,
    *,
    alert_id: UUID,
    actor: Actor,
    note: str,
    at: datetime | None = None,
    false_alarm: bool = False,
) -> Alert:
    """Close an alert by hand with a note; a false alarm feeds back into the home's thresholds."""
    async with conn.transaction():
        current = await _locked(conn, alert_id)
        if current.status == "resolved":
            raise AlertStateError("the alert is already resolved")
        when = at or await conn.fetchval("SELECT now()")
        resolution: Resolution = "false_alarm" if false_alarm else "handled"
        return await _resolve(conn, alert_id, actor=actor, at=when, resolution=resolution, note=note)


async def assign(conn: asyncpg.Connection, *, alert_id: UUID, actor: Actor, assignee: UUID | None) -> Alert:
    """Give an unresolved alert to a person (None: to nobody)."""
    async with conn.transaction():
        current = await _locked(conn, alert_id)
        if current.status == "resolved":
            raise AlertStateError("the alert is already resolved")
        alert = Alert.from_row(await queries.set_assigned(conn, alert_id=alert_id, assignee=assignee))
        detail = {"assignee": str(assignee) if assignee else None, "previous": _str(current.assigned_to)}
        await _record(conn, alert, "assigned", actor, detail)
        return alert


async def visible_alert(
    conn: asyncpg.Connection, *, scope: Scope, alert_id: UUID, role: Role | None = None
) -> asyncpg.Record:
    """The alert (as the listing shows it) if the scope sees it, and its kind is for the caller's role
    (a family member sees only the kinds for everyone); AlertNotFound otherwise."""
    row = await queries.get_scoped(conn, alert_id=alert_id, scope=scope, family=role is Role.FAMILY)
    if row is None:
        raise AlertNotFound(f"alert {alert_id} not found")
    return row


async def require_assignee(
    conn: asyncpg.Connection, caller: Viewer, *, organisation_id: UUID, assignee: UUID
) -> None:
    """Only an active coordinator or carer of the alert's organisation may be given an alert."""
    staff = (Role.COORDINATOR, Role.CARER)
    await member_of(conn, caller, assignee, organisation_id=organisation_id, roles=staff, active=True)


async def for_family(conn: asyncpg.Connection, *, kind: str) -> bool:
    """Whether a family member may be told of alerts of this kind (not a provider's working alert)."""
    return await queries.for_everyone(conn, kind=kind)


async def require_known_kinds(conn: asyncpg.Connection, *, kinds: list[str]) -> None:
    """Refuse a filter on a kind that does not exist, naming it (a typo would list nothing)."""
    unknown = await queries.unknown_kinds(conn, kinds=kinds)
    if unknown:
        raise UnknownKind(f"no such alert kind: {', '.join(repr(k) for k in unknown)}")


async def history(conn: asyncpg.Connection, *, alert_id: UUID) -> list[AlertEvent]:
    """Everything that happened to an alert, oldest first."""
    rows = await queries.history(conn, alert_id=alert_id)
    return [AlertEvent(**dict(r)) for r in rows]


async def _locked(conn: asyncpg.Connection, alert_id: UUID) -> Alert:
    row = await queries.get(conn, alert_id=alert_id, for_update=True)
    if row is None:
        raise AlertNotFound(f"alert {alert_id} does not exist")
    return Alert.from_row(row)


async def _resolve(
    conn: asyncpg.Connection, alert_id: UUID, *, actor: Actor, at: datetime, resolution: Resolution, note: str
) -> Alert:
    row = await queries.set_resolved(
        conn, alert_id=alert_id, at=at, by=actor.id, resolution=resolution, note=note
    )
    alert = Alert.from_row(row)
    await _record(conn, alert, "resolved", actor, {"resolution": resolution, "note": note})
    return alert


async def _record(
    conn: asyncpg.Connection, alert: Alert, action: str, actor: Actor, detail: dict[str, Any]
) -> None:
    await queries.insert_event(
        conn,
        alert_id=alert.id,
        action=action,
        actor_kind=actor.kind,
        actor_id=actor.id,
        actor_name=actor.name,
        detail=detail,
    )
    message = {
        "id": str(alert.id),
        "home_id": str(alert.home_id),
        "organisation_id": str(alert.organisation_id),
        "version": alert.version,
        "status": alert.status,
        "action": action,
    }
    await queries.notify(conn, payload=orjson.dumps(message).decode())


def _str(value: UUID | None) -> str | None:
    return str(value) if value else None
