"""Who a step tells, on which channels, and when: the policy's targets, kept to the people who may see
the home, through their preferences (kinds, severities, channels, quiet hours, the digest)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from alerts import service as alerts
from homes.service import alert_audiences
from notifications import batch_queries, queries
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


@dataclass(frozen=True, slots=True)
class StepOf:
    """One chain's step to plan, with its alert's home, organisation, kind and severity."""

    step: Step
    home_id: UUID
    organisation_id: UUID
    kind: str
    severity: str


@dataclass(frozen=True, slots=True)
class _Around:
    """What a batch of steps is planned from, read in a few queries for all of them."""

    audiences: dict[UUID, dict[UUID, asyncpg.Record]]  # home -> user -> audience row
    for_family: dict[str, bool]  # alert kind -> whether the family may be told of it
    prefs: dict[UUID, asyncpg.Record]
    points: dict[UUID, list[asyncpg.Record]]  # user -> verified points, one a channel, by channel
    webhooks: dict[UUID, asyncpg.Record]  # contact point -> a verified organisation webhook


async def plan_steps(conn: asyncpg.Connection, steps: list[StepOf], *, at: datetime) -> list[list[Planned]]:
    """The deliveries of each step. A target who may not see the home gets nothing, whatever the policy."""
    audiences = await alert_audiences(conn, list({s.home_id for s in steps}))
    by_home = {home: {r["user_id"]: r for r in rows} for home, rows in audiences.items()}
    kinds = {s.kind for s in steps}
    for_family = {kind: await alerts.for_family(conn, kind=kind) for kind in kinds}
    chosen = [_people(s, by_home[s.home_id], for_family[s.kind]) for s in steps]
    everyone = list({uid for people in chosen for uid in people})
    prefs = {r["user_id"]: r for r in await queries.preferences(conn, user_ids=everyone)}
    points: dict[UUID, list[asyncpg.Record]] = {}
    for point in await queries.verified_points(conn, user_ids=everyone):
        points.setdefault(point["user_id"], []).append(point)
    hooks = [t.id for s in steps for t in s.step.targets if t.kind == "webhook" and t.id is not None]
    webhooks = {r["id"]: r for r in await batch_queries.org_webhooks(conn, contact_point_ids=hooks)}
    around = _Around(by_home, for_family, prefs, points, webhooks)
    return [_plan(s, people, around, at=at) for s, people in zip(steps, chosen, strict=True)]


def _people(s: StepOf, audience: dict[UUID, asyncpg.Record], for_family: bool) -> list[UUID]:
    """Whom of the home's audience the step's targets name, in their order."""
    if not for_family:
        # A provider's working alert (a visit running late) is not the family's, by any route.
        audience = {uid: r for uid, r in audience.items() if r["role"] != "family"}
    people: list[UUID] = []
    for target in s.step.targets:
        if target.kind == "user":
            chosen = [target.id] if target.id in audience else []
        elif target.kind in ("circle", "carers", "coordinators"):
            role = {"circle": "family", "carers": "carer", "coordinators": "coordinator"}[target.kind]
            chosen = [uid for uid, r in audience.items() if r["role"] == role]
        else:
            chosen = []
        people.extend(uid for uid in chosen if uid is not None and uid not in people)
    return people


def _plan(s: StepOf, people: list[UUID], around: _Around, *, at: datetime) -> list[Planned]:
    audience = around.audiences[s.home_id]
    # By person and channel, as one query for the step's people used to give them.
    points = sorted((p for uid in people for p in around.points.get(uid, [])), key=_point_order)
    planned = [
        item
        for point in points
        if (item := _for_person(point, around.prefs.get(point["user_id"]), audience, s, at=at)) is not None
    ]
    for target in s.step.targets:
        if target.kind == "webhook" and target.id is not None:
            hook = around.webhooks.get(target.id)
            if hook is not None and hook["organisation_id"] == s.organisation_id:
                planned.append(_planned(hook, f"org:{hook['id']}", None, at, "the provider's webhook", ""))
    return planned


def _point_order(point: asyncpg.Record) -> tuple[str, str]:
    return (str(point["user_id"]), point["channel"])


def _for_person(
    point: asyncpg.Record,
    pref: asyncpg.Record | None,
    audience: dict[UUID, asyncpg.Record],
    s: StepOf,
    *,
    at: datetime,
) -> Planned | None:
    """The delivery to one of a person's points, or None when the step's channels or their preferences
    leave it out; quiet hours defer it and the digest takes low alerts (neither for a critical one)."""
    uid, kind, severity = point["user_id"], s.kind, s.severity
    if point["channel"] not in s.step.channels or not wants(pref, kind=kind, severity=severity):
        return None
    if pref is not None and point["channel"] not in pref["channels"]:
        return None
    tz = (pref["timezone"] if pref is not None else None) or audience[uid]["timezone"]
    item = _planned(point, f"user:{uid}", uid, at, _REASONS[audience[uid]["role"]], tz)
    if severity != "critical" and pref is not None:
        if severity == "low" and pref["digest_low"]:
            item = _replace(item, status="digest", deferred_reason="in the daily digest")
        elif pref["quiet_start"] is not None:
            until = quiet_until(at, start=pref["quiet_start"], end=pref["quiet_end"], tz=tz)
            if until is not None:
                item = _replace(item, send_at=until, deferred_reason="quiet hours")
    return item


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
