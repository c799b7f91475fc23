"""The rules of notifications: whose contact points, preferences and policies a caller sees or changes.

A person sees and changes only their own contact points and preferences; an organisation's webhooks and
its escalation policies are its coordinators' (and platform admins'). Anything else answers as missing.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, time, timedelta
from typing import Any
from uuid import UUID

import asyncpg

from accounts.members import member_of
from accounts.tenancy import Role, Viewer
from alerts import service as alerts
from homes.service import managed_home, require_organisation
from notifications import contact_queries as points
from notifications import queries
from notifications.errors import CodeInvalid, InvalidInput, NotFound
from notifications.policy import DEFAULT_POLICY, Policy
from notifications.schemas import ContactPointIn, PolicyIn, PreferencesIn

MAX_CODE_TRIES = 5
_PREFERENCE_DEFAULTS = PreferencesIn().model_dump()


def _person(caller: Viewer) -> UUID:
    """The caller's user id; integrations have no contact points or preferences of their own."""
    p = caller.principal
    if p.kind != "user":
        raise InvalidInput("an API key has no contact points or preferences: log in as a person")
    return p.id


def _code_hash(point_id: UUID, code: str) -> bytes:
    return hashlib.sha256(f"{point_id}:{code}".encode()).digest()


async def add_point(
    conn: asyncpg.Connection, caller: Viewer, body: ContactPointIn, *, at: datetime, code_minutes: int
) -> tuple[asyncpg.Record, str | None]:
    """Add a contact point and send it a code; returns it and, for a webhook, its signing secret (once)."""
    user_id = None if body.organisation_id is not None else _person(caller)
    if body.organisation_id is not None:
        caller.require_manager(body.organisation_id)
    signing = secrets.token_urlsafe(32) if body.channel == "webhook" else None
    secret: dict[str, Any] = {"signing_secret": signing} if signing else {}
    if body.keys is not None:
        secret = {"keys": body.keys.model_dump()}
    async with conn.transaction():
        row = await points.insert_point(
            conn,
            user_id=user_id,
            organisation_id=body.organisation_id,
            channel=body.channel,
            address=body.address,
            label=body.label,
            secret=secret,
        )
        await _send_code(conn, row, at=at, minutes=code_minutes)
    return row, signing


async def _send_code(conn: asyncpg.Connection, point: asyncpg.Record, *, at: datetime, minutes: int) -> None:
    code = f"{secrets.randbelow(1_000_000):06d}"
    expires = at + timedelta(minutes=minutes)
    await points.set_code(
        conn, point_id=point["id"], code_hash=_code_hash(point["id"], code), expires_at=expires
    )
    delivery = await queries.insert_delivery(
        conn,
        purpose="verify",
        recipient=f"user:{point['user_id']}" if point["user_id"] else f"org:{point['organisation_id']}",
        user_id=point["user_id"],
        contact_point_id=point["id"],
        channel=point["channel"],
        address=point["address"],
        payload={"code": code, "minutes": minutes},
        next_attempt_at=at,
        created_at=at,
    )
    assert delivery is not None
    await queries.log_attempt(conn, delivery_id=delivery, at=at, event="queued", detail="verification code")


async def owned_point(conn: asyncpg.Connection, caller: Viewer, point_id: UUID) -> asyncpg.Record:
    """A contact point the caller may change: their own, or a webhook of an organisation they manage."""
    row = await points.get_point(conn, point_id=point_id)
    missing = NotFound(f"contact point {point_id} not found")
    if row is None:
        raise missing
    p = caller.principal
    if row["user_id"] is not None:
        if p.kind != "user" or row["user_id"] != p.id:
            raise missing
        return row
    if p.role is not Role.PLATFORM_ADMIN and (
        p.role is not Role.COORDINATOR or p.organisation_id != row["organisation_id"]
    ):
        raise missing
    return row


async def verify_point(
    conn: asyncpg.Connection, caller: Viewer, point_id: UUID, code: str, *, at: datetime
) -> asyncpg.Record:
    """Check the code sent to a contact point; five wrong tries and the code is spent."""
    async with conn.transaction():
        row = await owned_point(conn, caller, point_id)
        row = await points.get_point(conn, point_id=point_id, for_update=True)
        assert row is not None
        if row["verified_at"] is not None:
            return row
        usable = (
            row["verify_code_hash"] is not None
            and row["verify_expires_at"] > at
            and row["verify_attempts"] < MAX_CODE_TRIES
        )
        if usable and hmac.compare_digest(bytes(row["verify_code_hash"]), _code_hash(point_id, code)):
            return await points.mark_verified(conn, point_id=point_id, at=at)
        await points.count_try(conn, point_id=point_id)
    raise CodeInvalid(
        "the code is wrong, expired or was tried too often; ask for a new one by adding the point again"
    )


async def remove_point(conn: asyncpg.Connection, caller: Viewer, point_id: UUID) -> asyncpg.Record:
    """Remove a contact point the caller owns."""
    row = await owned_point(conn, caller, point_id)
    await points.delete_point(conn, point_id=point_id)
    return row


async def list_points(conn: asyncpg.Connection, caller: Viewer) -> list[asyncpg.Record]:
    """The caller's contact points, and their organisation's webhooks for coordinators."""
    p = caller.principal
    org = p.organisation_id if p.role is Role.COORDINATOR else None
    return await points.list_points(conn, user_id=p.id if p.kind == "user" else None, organisation_id=org)


async def preferences(conn: asyncpg.Connection, caller: Viewer) -> dict[str, Any]:
    """The caller's preferences (the defaults until they set some)."""
    row = await points.get_preferences(conn, user_id=_person(caller))
    if row is None:
        return dict(_PREFERENCE_DEFAULTS)
    return _prefs_out(row)


async def set_preferences(conn: asyncpg.Connection, caller: Viewer, body: PreferencesIn) -> dict[str, Any]:
    """Replace the caller's preferences."""
    prefs = body.model_dump()
    for name in ("quiet_start", "quiet_end"):
        prefs[name] = time.fromisoformat(prefs[name]) if prefs[name] else None
    return _prefs_out(await points.put_preferences(conn, user_id=_person(caller), prefs=prefs))


def _prefs_out(row: asyncpg.Record) -> dict[str, Any]:
    out = {k: row[k] for k in _PREFERENCE_DEFAULTS}
    for name in ("quiet_start", "quiet_end"):
        out[name] = row[name].strftime("%H:%M") if row[name] is not None else None
    return out


async def policy_in_force(
    conn: asyncpg.Connection,
    caller: Viewer,
    *,
    organisation_id: UUID | None = None,
    home_id: UUID | None = None,
) -> tuple[Policy, str]:
    """The policy a home (or, without home_id, the organisation by default) escalates by, and its source."""
    await _managed(conn, caller, organisation_id=organisation_id, home_id=home_id)
    if home_id is not None:
        row = await queries.policy_for(conn, home_id=home_id)
    else:
        assert organisation_id is not None
        row = await queries.get_policy(conn, organisation_id=organisation_id, home_id=None)
    if row is None:
        return DEFAULT_POLICY, "built-in"
    return Policy.from_row(row), "home" if row["home_id"] is not None else "organisation"


async def _managed(
    conn: asyncpg.Connection, caller: Viewer, *, organisation_id: UUID | None, home_id: UUID | None
) -> UUID:
    """The organisation of the home (or the one named) if the caller administers it."""
    if home_id is not None:
        home = await managed_home(conn, caller, home_id)
        return home["organisation_id"]  # type: ignore[no-any-return]
    assert organisation_id is not None
    caller.require_manager(organisation_id)
    await require_organisation(conn, organisation_id)  # platform admins may name any id
    return organisation_id


async def set_policy(
    conn: asyncpg.Connection,
    caller: Viewer,
    body: PolicyIn,
    *,
    organisation_id: UUID | None = None,
    home_id: UUID | None = None,
) -> Policy:
    """Replace a home's policy (or the organisation's default); every person or webhook it names must be
    the organisation's (another tenant's id answers as a missing one)."""
    org = await _managed(conn, caller, organisation_id=organisation_id, home_id=home_id)
    staff = (Role.FAMILY, Role.CARER, Role.COORDINATOR)
    for step in body.steps:
        for target in step.targets:
            if target.kind == "user" and target.id is not None:
                await member_of(conn, caller, target.id, organisation_id=org, roles=staff)
            if target.kind == "webhook" and target.id is not None:
                row = await points.get_point(conn, point_id=target.id)
                if row is None or row["organisation_id"] != org:
                    raise NotFound(f"contact point {target.id} not found")
    policy = Policy.from_json(body.model_dump(mode="json"))
    await queries.put_policy(
        conn, organisation_id=org, home_id=home_id, policy=policy.to_json(), by=caller.principal.id
    )
    return policy


async def delete_policy(
    conn: asyncpg.Connection,
    caller: Viewer,
    *,
    organisation_id: UUID | None = None,
    home_id: UUID | None = None,
) -> None:
    """Remove a home's own policy (it falls back to the organisation's) or the organisation's default."""
    org = await _managed(conn, caller, organisation_id=organisation_id, home_id=home_id)
    await queries.delete_policy(conn, organisation_id=org, home_id=home_id)


async def timeline(conn: asyncpg.Connection, caller: Viewer, alert_id: UUID) -> dict[str, Any]:
    """Who was told what about an alert and when, and who acknowledged; addresses for coordinators only."""
    alert = await alerts.visible_alert(conn, scope=caller.scope, alert_id=alert_id)
    staff = caller.principal.role in (Role.PLATFORM_ADMIN, Role.COORDINATOR, Role.INTEGRATION)
    chain = await queries.chain_for(conn, alert_id=alert_id)
    deliveries = [
        {
            **{k: row[k] for k in ("id", "round", "step", "recipient", "name", "channel", "status")},
            "address": row["address"] if staff or row["user_id"] == caller.principal.id else None,
            "deferred_reason": row["deferred_reason"],
            "created_at": row["created_at"],
            "sent_at": row["sent_at"],
            "attempts": row["log"],
        }
        for row in await points.timeline(conn, alert_id=alert_id)
    ]
    return {
        "alert_id": alert_id,
        "chain": None if chain is None else {k: chain[k] for k in ("state", "stop_reason", "reached_last")},
        "deliveries": deliveries,
        "acknowledged_at": alert["acknowledged_at"],
        "acknowledged_by": alert["acknowledged_by"],
    }


async def queue_test(conn: asyncpg.Connection, caller: Viewer, *, channel: str | None, at: datetime) -> int:
    """Queue a test message to each of the caller's verified contact points (of that channel)."""
    me = _person(caller)
    queued = 0
    for point in await queries.verified_points(conn, user_ids=[me]):
        if channel is not None and point["channel"] != channel:
            continue
        delivery = await queries.insert_delivery(
            conn,
            purpose="test",
            recipient=f"user:{me}",
            user_id=me,
            contact_point_id=point["id"],
            channel=point["channel"],
            address=point["address"],
            next_attempt_at=at,
            created_at=at,
        )
        assert delivery is not None
        await queries.log_attempt(conn, delivery_id=delivery, at=at, event="queued", detail="test message")
        queued += 1
    return queued
