"""One-time acknowledgement links: acknowledge just that alert, once, before expiry, without a login.

The token is 256 random bits, stored only as its SHA-256 (as refresh tokens are): unguessable, and
single use needs the stored row anyway, so a signature would add nothing. Every use is audited with the
address the link was sent to.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from accounts import queries as account_queries
from accounts.tenancy import EVERYTHING
from alerts import service as alerts
from alerts.errors import AlertStateError
from homes.service import alert_audience
from notifications import queries
from notifications.errors import LinkInvalid


@dataclass(frozen=True, slots=True)
class LinkAck:
    """What an acknowledgement link did."""

    alert_id: UUID
    status: str
    already: bool


def token_hash(token: str) -> bytes:
    """How a link's token is stored."""
    return hashlib.sha256(token.encode()).digest()


async def acknowledge_by_link(
    conn: asyncpg.Connection, *, token: str, at: datetime, client_addr: str | None, user_agent: str | None
) -> LinkAck:
    """Acknowledge the one alert a link was sent for, once, before it expires; audited with its recipient."""
    digest = token_hash(token)
    async with conn.transaction():
        link = await queries.take_ack_link(conn, token_hash=digest)
        if link is None or link["used_at"] is not None or link["expires_at"] <= at:
            raise LinkInvalid("this link is not valid: it was used already, has expired, or never existed")
        name = link["sent_to"]
        if link["user_id"] is not None:
            audience = {r["user_id"]: r for r in await alert_audience(conn, link["home_id"])}
            if link["user_id"] not in audience:
                raise LinkInvalid(
                    "this link is not valid: it was used already, has expired, or never existed"
                )
            name = audience[link["user_id"]]["name"] or audience[link["user_id"]]["email"]
        actor = alerts.Actor("user" if link["user_id"] else "system", link["user_id"], f"{name} (link)")
        try:
            before = await alerts.visible_alert(conn, scope=EVERYTHING, alert_id=link["alert_id"])
            alert = await alerts.acknowledge(
                conn,
                alert_id=link["alert_id"],
                actor=actor,
                note=f"acknowledged with the link sent to {link['sent_to']}",
            )
            status, already = alert.status, before["status"] != "open"
        except AlertStateError:
            status, already = "resolved", True
        await queries.use_ack_link(conn, token_hash=digest, at=at, origin=client_addr or "")
        await queries.log_attempt(
            conn,
            delivery_id=link["delivery_id"],
            at=at,
            event="acknowledged",
            detail=f"with the link, from {client_addr}",
        )
        await account_queries.insert_audit(
            conn,
            actor_kind="user" if link["user_id"] else "system",
            actor_id=link["user_id"],
            actor_name=actor.name,
            organisation_id=link["organisation_id"],
            action="alert.acknowledge_link",
            target_type="alert",
            target_id=str(link["alert_id"]),
            detail={"sent_to": link["sent_to"], "delivery_id": str(link["delivery_id"]), "already": already},
            client_addr=client_addr,
            user_agent=(user_agent or "")[:500] or None,
        )
    return LinkAck(link["alert_id"], status, already)
