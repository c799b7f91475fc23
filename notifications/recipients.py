"""Who a step tells, on which channels, and when: the policy's targets, kept to the people who may see
the home, through their preferences (kinds, severities, channels, quiet hours, the digest)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from alerts import service as alerts
from homes.service import alert_audience
from notifications import queries
from notifications.policy import Step
from notifications.quiet import quiet_until

_RANK = {"low": 0, "medium": 1, "high": 2, "critical": 3}
_REASONS = {
    "family": "in the circle of care of this home",
    "carer": "a carer of this home",
    "coordinator": "a coordinator of the care provider",
}


@dataclass(frozen=True, slots=True)
class Planned:
    """One delivery a step makes: to whom, where, and whether it waits (quiet hours) or is digested."""

    recipient: str
    user_id: UUID | None
    contact_point_id: UUID
    channel: str
    address: str
    status: str  # queued or digest
    send_at: datetime
    deferred_reason: str | None
    payload: dict[str, Any]


async def plan_step(
    conn: asyncpg.Connection,
    *,
    step: Step,
    home_id: UUID,
    organisation_id: UUID,
    kind: str,
    severity: str,
    at: datetime,
) -> list[Planned]:
    """The deliveries of one step. A target who may not see the home gets nothing, whatever the policy."""
    audience = {r["user_id"]: r for r in await alert_audience(conn, home_id)}
    if not await alerts.for_family(conn, kind=kind):
        # A provider's working alert (a visit running late) is not the family's, by any route.
        audience = {uid: r for uid, r in audience.items() if r["role"] != "family"}
    people: list[UUID] = []
    for target in step.targets:
        if target.kind == "user":
            chosen = [target.id] if target.id in audience else []
        elif target.kind in ("circle", "carers", "coordinators"):
            role = {"circle": "family", "carers": "carer", "coordinators": "coordinator"}[target.kind]
            chosen = [uid for uid, r in audience.items() if r["role"] == role]
        else:
            chosen = []
        people.extend(uid for uid in chosen if uid is not None and uid not in people)
    planned = await _people(conn, people, audience, step=step, kind=kind, severity=severity, at=at)
    for target in step.targets:
        if target.kind == "webhook" and target.id is not None:
            point = await queries.org_webhook(
                conn, organisation_id=organisation_id, contact_point_id=target.id
            )
            if point is not None:
                planned.append(_planned(point, f"org:{point['id']}", None, at, "the provider's webhook", ""))
    return planned


async def _people(
    conn: asyncpg.Connection,
    people: list[UUID],
    audience: dict[UUID, asyncpg.Record],
    *,
    step: Step,
    kind: str,
    severity: str,
    at: datetime,
) -> list[Planned]:
    prefs = {r["user_id"]: r for r in await queries.preferences(conn, user_ids=people)}
    points = await queries.verified_points(conn, user_ids=people)
    out = []
    for point in points:
        uid = point["user_id"]
        pref = prefs.get(uid)
        if point["channel"] not in step.channels or not wants(pref, kind=kind, severity=severity):
            continue
        if pref is not None and point["channel"] not in pref["channels"]:
            continue
        tz = (pref["timezone"] if pref is not None else None) or audience[uid]["timezone"]
        item = _planned(point, f"user:{uid}", uid, at, _REASONS[audience[uid]["role"]], tz)
        if severity != "critical" and pref is not None:
            if severity == "low" and pref["digest_low"]:
                item = _replace(item, status="digest", deferred_reason="in the daily digest")
            elif pref["quiet_start"] is not None:
                until = quiet_until(at, start=pref["quiet_start"], end=pref["quiet_end"], tz=tz)
                if until is not None:
                    item = _replace(item, send_at=until, deferred_reason="quiet hours")
        out.append(item)
    return out


def wants(pref: asyncpg.Record | None, *, kind: str, severity: str) -> bool:
    """Whether a person's preferences take this alert; a critical alert is always taken."""
    if pref is None or severity == "critical":
        return True
    if pref["kinds"] is not None and kind not in pref["kinds"]:
        return False
    return _RANK[severity] >= _RANK[pref["min_severity"]]


def _planned(
    point: asyncpg.Record, recipient: str, uid: UUID | None, at: datetime, reason: str, tz: str
) -> Planned:
    return Planned(
        recipient=recipient,
        user_id=uid,
        contact_point_id=point["id"],
        channel=point["channel"],
        address=point["address"],
        status="queued",
        send_at=at,
        deferred_reason=None,
        payload={"reason": reason, "tz": tz or "UTC"},
    )


def _replace(item: Planned, **changes: Any) -> Planned:
    return replace(item, **changes)
