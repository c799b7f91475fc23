"""Signed webhooks: JSON posted with an HMAC-SHA256 signature over the timestamp and the body.

The receiver recomputes `v1=` + hex(HMAC-SHA256(secret, "<timestamp>.<body>")) and rejects a timestamp
far from its clock (a replayed request), as Stripe-style webhooks do. The delivery id rides along so a
receiver can drop a repeat.
"""

from __future__ import annotations

import hashlib
import hmac
import time

import httpx
import orjson

from notifications.channels.base import ChannelError, Outcome, Outgoing

SIGNATURE_HEADER = "X-Telecare-Signature"
TIMESTAMP_HEADER = "X-Telecare-Timestamp"
DELIVERY_HEADER = "X-Telecare-Delivery"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header's value."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str, *, tolerance_s: float = 300) -> bool:
    """Whether a request carries a valid signature made within the tolerance (what a receiver does)."""
    try:
        fresh = abs(time.time() - float(timestamp)) <= tolerance_s
    except ValueError:
        return False
    return fresh and hmac.compare_digest(sign(secret, timestamp, body), signature)


class WebhookChannel:
    """Posts to the contact point's URL; a 2xx answer counts as delivered."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def send(self, outgoing: Outgoing) -> Outcome:
        """Post the message's JSON, signed with the contact point's secret."""
        body = orjson.dumps(
            {**outgoing.message.data, "delivery_id": outgoing.delivery_id, "text": outgoing.message.text}
        )
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(str(outgoing.secret.get("signing_secret", "")), timestamp, body),
            DELIVERY_HEADER: outgoing.delivery_id,
        }
        try:
            response = await self.client.post(outgoing.address, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise ChannelError(f"webhook: {exc.__class__.__name__}: {exc}") from exc
        if response.status_code >= 300:
            permanent = response.status_code in (404, 410)
            raise ChannelError(f"webhook answered {response.status_code}", permanent=permanent)
        return Outcome("delivered", f"webhook answered {response.status_code}")
