"""What every channel takes and answers: one message to one address, sent, delivered or failed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

from notifications.messages import Message


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One delivery to send: where to, what, and its id (receivers may use it to drop a repeat)."""

    delivery_id: str
    address: str
    secret: dict[str, Any]
    message: Message


@dataclass(frozen=True, slots=True)
class Outcome:
    """How an attempt ended: `sent` (the provider took it) or `delivered` (the receiver confirmed it)."""

    status: Literal["sent", "delivered"]
    detail: str = ""


class ChannelError(Exception):
    """An attempt failed; `permanent` when trying again cannot help (a subscription that is gone)."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.permanent = permanent


class Channel(Protocol):
    """A way of sending."""

    async def send(self, outgoing: Outgoing) -> Outcome:
        """Send one message; ChannelError with the reason if it could not be sent."""
