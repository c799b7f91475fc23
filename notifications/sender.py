"""Sending a batch of deliveries: the rows stay locked while they are sent, so no other dispatcher sends
them too; they are sent at once (each on its own SMTP session or request) and their outcomes recorded in
one statement with the commit, so a batch costs about one delivery's round trips to the database.

If the process dies during the sends, its transaction ends with its connection, the locks go with it
and another dispatcher (or this one restarted) sends them at once; only a death between a provider's
acceptance and our commit, a few milliseconds as the batch's messages go out together, can repeat a
message (whose id then lets a receiver drop it: the email's Message-ID, the webhook's X-Telecare-Delivery).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
import secrets
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg

from homes.service import alert_audiences
from notifications import batch_queries, queries
from notifications.batch_queries import AckLink, Result
from notifications.channels.base import Channel, ChannelError, Outgoing
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


async def send_batch(
    pool: asyncpg.Pool,
    channels: dict[str, Channel],
    config: SendConfig,
    *,
    at: datetime,
    limit: int,
    digest: Any = None,
) -> int:
    """Send up to `limit` of the most overdue deliveries at once; how many were taken (0: none is due)."""
    async with pool.acquire() as conn, conn.transaction():
        rows = await batch_queries.take_deliveries(conn, at=at, limit=limit)
        if not rows:
            return 0
        homes = list({r["home_id"] for r in rows if r["purpose"] == "alert" and r["user_id"] is not None})
        audiences = await alert_audiences(conn, homes) if homes else {}
        results: list[Result | None] = []
        sends: list[Awaitable[Result]] = []
        for row in rows:
            reason = _why_not(row, audiences)
            if reason is not None:
                results.append(Result(row["id"], "cancelled", error=reason, log=[("cancelled", reason)]))
                continue
            message, link = await _message(conn, row, config, at=at, digest=digest)
            outgoing = Outgoing(str(row["id"]), row["address"], row["secret"] or {}, message)
            results.append(None)
            sends.append(_attempt(channels[row["channel"]], outgoing, row, config, at=at, link=link))
        sent = iter(await asyncio.gather(*sends))
        done = [result if result is not None else next(sent) for result in results]
        await batch_queries.record_results(conn, results=done, at=at)
        for row, result in zip(rows, done, strict=True):
            if result.status == "failed" and row["purpose"] == "alert":
                await _move_on_if_unreached(conn, row, at=at)
    return len(rows)


def _why_not(row: asyncpg.Record, audiences: dict[UUID, list[asyncpg.Record]]) -> str | None:
    """Why an alert's delivery must not go now (acknowledged, resolved, recipient left), or None."""
    if row["purpose"] != "alert":
        return None
    if row["alert_status"] != "open":
        return f"the alert is {row['alert_status']}"
    if row["user_id"] is not None and row["user_id"] not in {r["user_id"] for r in audiences[row["home_id"]]}:
        return "the recipient may no longer see the home"
    return None


async def _attempt(
    channel: Channel,
    outgoing: Outgoing,
    row: asyncpg.Record,
    config: SendConfig,
    *,
    at: datetime,
    link: AckLink | None,
) -> Result:
    """One send, whatever happens an outcome: an exception here would roll back the whole batch, and with it
    the record of the messages already accepted (which would then go out again)."""
    try:
        async with asyncio.timeout(config.timeout_s):
            outcome = await channel.send(outgoing)
    except ChannelError as exc:
        return _failed(row, config, at=at, reason=str(exc), permanent=exc.permanent, link=link)
    except TimeoutError:
        reason = f"no answer in {config.timeout_s:g} s"
        return _failed(row, config, at=at, reason=reason, permanent=False, link=link)
    except Exception as exc:  # a channel's bug or an unexpected error: retried like a failure
        log.exception("delivery %s on %s raised", row["id"], row["channel"])
        reason = f"{exc.__class__.__name__}: {exc}"
        return _failed(row, config, at=at, reason=reason, permanent=False, link=link)
    entries = [("sent", outcome.detail)]
    if outcome.status == "delivered":
        entries.append(("delivered", outcome.detail))
    return Result(row["id"], outcome.status, log=entries, link=link)


async def _message(
    conn: asyncpg.Connection, row: asyncpg.Record, config: SendConfig, *, at: datetime, digest: Any
) -> tuple[Message, AckLink | None]:
    """The delivery's message, and the acknowledgement link it carries (kept with the outcome)."""
    payload = row["payload"] or {}
    if row["purpose"] == "verify":
        code = payload["code"]
        data = {"event": "verify", "code": code}
        return simple_message("verify", data=data, code=code, minutes=payload.get("minutes", 30)), None
    if row["purpose"] == "test":
        return simple_message("test", data={"event": "test"}, channel=row["channel"]), None
    if row["purpose"] == "digest":
        message: Message = await digest(conn, row)
        return message, None
    return _alert_message(row, config, at=at)


def _alert_message(row: asyncpg.Record, config: SendConfig, *, at: datetime) -> tuple[Message, AckLink]:
    facts = row  # take_deliveries joined the alert and its home
    token = secrets.token_urlsafe(32)
    expires = at + config.ack_link_lifetime
    link: AckLink = (
        hashlib.sha256(token.encode()).digest(),
        row["alert_id"],
        row["user_id"],
        f"{row['channel']}:{row['address']}",
        expires,
    )
    payload = row["payload"] or {}
    message = alert_message(
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
    return message, link


def _failed(
    row: asyncpg.Record,
    config: SendConfig,
    *,
    at: datetime,
    reason: str,
    permanent: bool,
    link: AckLink | None,
) -> Result:
    attempts = row["attempts"] + 1
    final = permanent or attempts >= config.max_attempts
    retry_at = None if final else at + timedelta(seconds=backoff(attempts, config))
    detail = reason if final else f"{reason}; next try at {retry_at.isoformat() if retry_at else ''}"
    log.info("delivery %s on %s failed (attempt %d): %s", row["id"], row["channel"], attempts, reason)
    return Result(row["id"], "failed", error=reason, retry_at=retry_at, log=[("failed", detail)], link=link)


async def _move_on_if_unreached(conn: asyncpg.Connection, row: asyncpg.Record, *, at: datetime) -> None:
    """A failed delivery moves the chain to its next step at once when nobody of its step was reached."""
    chain = await queries.chain_for(conn, alert_id=row["alert_id"])
    if chain is None or chain["state"] != "running":
        return
    following = Position(row["round"], row["step"]).following(Policy.from_json(chain["policy"]))
    if following is None or (chain["round"], chain["next_step"]) != (following.round, following.step):
        return
    if await queries.step_unreached(conn, alert_id=row["alert_id"], round=row["round"], step=row["step"]):
        await batch_queries.hurry_chains(conn, alert_ids=[row["alert_id"]], at=at)
