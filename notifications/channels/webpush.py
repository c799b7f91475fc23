"""Web Push to a browser subscription (pywebpush), signed with the service's VAPID key."""

from __future__ import annotations

import asyncio
import base64

import orjson
from cryptography.hazmat.primitives import serialization
from py_vapid import Vapid
from pywebpush import WebPushException, webpush

from notifications.channels.base import ChannelError, Outcome, Outgoing


def new_vapid_pem() -> str:
    """A new VAPID private key (P-256), as PEM."""
    vapid = Vapid()
    vapid.generate_keys()
    pem: bytes = vapid.private_pem()
    return pem.decode()


def application_server_key(private_pem: str) -> str:
    """The public key browsers subscribe with (uncompressed point, base64url without padding)."""
    vapid = Vapid.from_pem(private_pem.encode())
    raw = vapid.public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class WebPushChannel:
    """Pushes the message's JSON; the push service's acceptance counts as sent."""

    def __init__(self, private_pem: str, subject: str, timeout_s: float) -> None:
        self.vapid = Vapid.from_pem(private_pem.encode())
        self.subject = subject
        self.timeout_s = timeout_s

    async def send(self, outgoing: Outgoing) -> Outcome:
        """Encrypt and post to the subscription's endpoint (in a thread: pywebpush is synchronous)."""
        info = {"endpoint": outgoing.address, "keys": outgoing.secret.get("keys", {})}
        data = orjson.dumps(
            {"title": outgoing.message.subject, "body": outgoing.message.sms, **outgoing.message.data}
        ).decode()
        try:
            response = await asyncio.to_thread(
                webpush,
                subscription_info=info,
                data=data,
                vapid_private_key=self.vapid,
                vapid_claims={"sub": self.subject},
                timeout=self.timeout_s,
            )
        except WebPushException as exc:
            status = exc.response.status_code if exc.response is not None else 0
            raise ChannelError(f"push service: {exc}", permanent=status in (404, 410)) from exc
        except (OSError, ValueError) as exc:
            raise ChannelError(f"push: {exc.__class__.__name__}: {exc}") from exc
        return Outcome("sent", f"push service answered {getattr(response, 'status_code', '?')}")
