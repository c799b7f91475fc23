"""Sending one delivery: the row stays locked while it is sent, so no other dispatcher sends it too.

If the process dies during the send, its transaction ends with its connection, the lock goes with it
and another dispatcher (or this one restarted) sends it at once; only a death between the provider's
acceptance and our commit, a few milliseconds, can repeat a message (whose id then lets a receiver
drop it: the email's Message-ID, the webhook's X-Telecare-Delivery).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from homes.service import alert_audience
from notifications import queries
from notifications.channels.base import Channel, ChannelError, Outcome, Outgoing
from notifications.messages import AlertFacts, Message, alert_message, simple_message
from notifications.policy import Policy, Position

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SendConfig:
    """How deliveries are sent and retried."""

    public_url: str
    ack_link_lifetime: timedelta
    timeout_s: float = 10.0
    retry_base_s: float = 5.0
    retry_max_s: float = 300.0
    max_attempts: int = 20


def backoff(attempts: int, config: SendConfig) -> float:
    """Seconds before the next try after `attempts` failures: doubling, capped, with 10% jitter."""
    delay = min(config.retry_max_s, config.retry_base_s * 2.0 ** max(attempts - 1, 0))
    return float(delay * random.uniform(0.9, 1.0))


async def send_one(
    pool: asyncpg.Pool,
    channels: dict[str, Channel],
    config: SendConfig,
    *,
    at: datetime,
    digest: Any = None,
) -> bool:
    """Send the most overdue delivery; False when none is due."""
    async with pool.acquire() as conn, conn.transaction():
        row = await queries.take_delivery(conn, at=at)
        if row is None:
            return False
        reason = await _why_not(conn, row)
        if reason is not None:
            await queries.mark_delivery(
                conn,
                delivery_id=row["id"],
                status="cancelled",
                at=at,
                error=reason,
                log=[("cancelled", reason)],
            )
            return True
        message = await _message(conn, row, config, at=at, digest=digest)
        outgoing = Outgoing(str(row["id"]), row["address"], row["secret"] or {}, message)
        try:
            async with asyncio.timeout(config.timeout_s):
                outcome = await channels[row["channel"]].send(outgoing)
        except ChannelError as exc:
            await _failed(conn, row, config, at=at, reason=str(exc), permanent=exc.permanent)
        except TimeoutError:
            await _failed(
                conn, row, config, at=at, reason=f"no answer in {config.timeout_s:g} s", permanent=False
            )
        else:
            await _succeeded(conn, row, outcome, at=at)
    return True


async def _why_not(conn: asyncpg.Connection, row: asyncpg.Record) -> str | None:
    """Why an alert's delivery must not go now (acknowledged, resolved, recipient left), or None."""
    if row["purpose"] != "alert":
        return None
    if row["alert_status"] != "open":
        return f"the alert is {row['alert_status']}"
    if row["user_id"] is not None:
        audience = {r["user_id"] for r in await alert_audience(conn, row["home_id"])}
        if row["user_id"] not in audience:
            return "the recipient may no longer see the home"
    return None


async def _message(
    conn: asyncpg.Connection, row: asyncpg.Record, config: SendConfig, *, at: datetime, digest: Any
) -> Message:
    payload = row["payload"] or {}
    if row["purpose"] == "verify":
        return simple_message(
            "verify",
            data={"event": "verify", "code": payload["code"]},
            code=payload["code"],
            minutes=payload.get("minutes", 30),
        )
    if row["purpose"] == "test":
        return simple_message("test", data={"event": "test"}, channel=row["channel"])
    if row["purpose"] == "digest":
        message: Message = await digest(conn, row)
        return message
    return await _alert_message(conn, row, config, at=at)


async def _alert_message(
    conn: asyncpg.Connection, row: asyncpg.Record, config: SendConfig, *, at: datetime
) -> Message:
    facts = row  # take_delivery joined the alert and its home
    token = secrets.token_urlsafe(32)
    expires = at + config.ack_link_lifetime
    await queries.insert_ack_link(
        conn,
        token_hash=hashlib.sha256(token.encode()).digest(),
        alert_id=row["alert_id"],
        delivery_id=row["id"],
        user_id=row["user_id"],
        sent_to=f"{row['channel']}:{row['address']}",
        expires_at=expires,
    )
    payload = row["payload"] or {}
    return alert_message(
        AlertFacts(
            alert_id=str(facts["alert_id"]),
            kind=facts["kind"],
            severity=facts["severity"],
            title=facts["title"],
            explanation=facts["explanation"],
            room=facts["room"],
            triggered_at=facts["triggered_at"],
            home_id=str(facts["home_id"]),
            home=facts["home_name"],
            address=facts["home_address"],
        ),
        tz=payload.get("tz") or facts["timezone"],
        ack_url=f"{config.public_url.rstrip('/')}/v1/notifications/ack/{token}",
        link_expires=expires,
        next_wait_s=payload.get("wait_s"),
        reason=payload.get("reason", "on this home's alert list"),
        step=row["step"],
    )


async def _succeeded(
    conn: asyncpg.Connection, row: asyncpg.Record, outcome: Outcome, *, at: datetime
) -> None:
    log = [("sent", outcome.detail)]
    if outcome.status == "delivered":
        log.append(("delivered", outcome.detail))
    await queries.mark_delivery(conn, delivery_id=row["id"], status=outcome.status, at=at, log=log)


async def _failed(
    conn: asyncpg.Connection,
    row: asyncpg.Record,
    config: SendConfig,
    *,
    at: datetime,
    reason: str,
    permanent: bool,
) -> None:
    attempts = row["attempts"] + 1
    final = permanent or attempts >= config.max_attempts
    retry_at = None if final else at + timedelta(seconds=backoff(attempts, config))
    detail = reason if final else f"{reason}; next try at {retry_at.isoformat() if retry_at else ''}"
    await queries.mark_delivery(
        conn,
        delivery_id=row["id"],
        status="failed",
        at=at,
        error=reason,
        retry_at=retry_at,
        log=[("failed", detail)],
    )
    log.info("delivery %s on %s failed (attempt %d): %s", row["id"], row["channel"], attempts, reason)
    if row["purpose"] == "alert":
        await _move_on_if_unreached(conn, row, at=at)


async def _move_on_if_unreached(conn: asyncpg.Connection, row: asyncpg.Record, *, at: datetime) -> None:
    """A failed delivery moves the chain to its next step at once when nobody of its step was reached."""
    chain = await queries.chain_for(conn, alert_id=row["alert_id"])
    if chain is None or chain["state"] != "running":
        return
    following = Position(row["round"], row["step"]).following(Policy.from_json(chain["policy"]))
    if following is None or (chain["round"], chain["next_step"]) != (following.round, following.step):
        return
    if await queries.step_unreached(conn, alert_id=row["alert_id"], round=row["round"], step=row["step"]):
        await queries.hurry_chain(conn, alert_id=row["alert_id"], at=at)
