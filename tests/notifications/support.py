"""Real receivers for the notification tests (an SMTP server, aiosmtpd, and an HTTP receiver, on free ports)
and a small world: a home, two family members, a coordinator, a carer, an outsider, their contact points."""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from uuid import UUID

import asyncpg
import orjson
from aiosmtpd.controller import Controller

from accounts import service as accounts
from accounts.tenancy import Role
from homes import queries as home_queries
from kernel.embedded.process import free_port
from notifications.policy import Policy

LINK = re.compile(r"https?://\S+/v1/notifications/ack/([A-Za-z0-9_\-]+)")


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


class SmtpSink:
    """A real SMTP server; stop() and start() again on the same port to take it down for a while."""

    def __init__(self) -> None:
        self.port = free_port()
        self.inbox = _Inbox()
        self.controller: Controller | None = None

    def start(self) -> None:
        """Listen."""
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        """Stop listening (connections are refused)."""
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def to(self, address: str) -> list[Message]:
        """Messages received for an address."""
        with self.inbox.lock:
            return [m for m in self.inbox.messages if m["To"] == address]

    async def wait_for(self, address: str, count: int = 1, timeout: float = 30) -> list[Message]:
        """Wait until `count` messages for the address have arrived."""
        async with asyncio.timeout(timeout):
            while len(self.to(address)) < count:
                await asyncio.sleep(0.02)
        return self.to(address)


def text_of(message: Message) -> str:
    """The plain-text part."""
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode()
    return ""


def ack_token(message: Message) -> str:
    """The acknowledgement token in a message's link."""
    found = LINK.search(text_of(message))
    assert found, text_of(message)
    return found[1]


@dataclass
class HttpReceiver:
    """A real HTTP server that keeps every POST (headers and JSON body)."""

    port: int = field(default_factory=free_port)
    received: list[tuple[dict[str, str], dict[str, Any], bytes]] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    def start(self) -> None:
        """Listen in a thread."""
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                received.append((dict(self.headers), orjson.loads(body), body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        """Stop listening."""
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    @property
    def url(self) -> str:
        """Where to post."""
        return f"http://127.0.0.1:{self.port}/hook"


@dataclass
class People:
    """One provider's home and the people around it (and an outsider of another provider)."""

    org: UUID
    home: UUID
    family1: UUID
    family2: UUID
    coordinator: UUID
    carer: UUID
    outsider: UUID
    webhook: UUID
    emails: dict[str, str]


async def _person(conn: asyncpg.Connection, name: str, role: Role, org: UUID) -> UUID:
    user = await accounts.create_user(
        conn, email=f"{name}@example.org", name=name.title(), role=role, organisation_id=org
    )
    await add_point(conn, user_id=user.id, channel="email", address=f"{name}@example.org")
    return user.id


async def add_point(
    conn: asyncpg.Connection,
    *,
    user_id: UUID | None,
    channel: str,
    address: str,
    org: UUID | None = None,
    secret: dict[str, Any] | None = None,
) -> UUID:
    """A verified contact point."""
    return await conn.fetchval(  # type: ignore[no-any-return]
        """
        INSERT INTO notification_contact_points
            (user_id, organisation_id, channel, address, secret, verified_at)
        VALUES ($1, $2, $3, $4, $5, now()) RETURNING id
        """,
        user_id,
        org,
        channel,
        address,
        secret or {},
    )


async def build_people(conn: asyncpg.Connection, *, webhook_url: str, home: UUID | None = None) -> People:
    """The world of the notification tests."""
    if home is None:
        org = await home_queries.insert_organisation(conn, name="Provider")
        home = await home_queries.insert_home(
            conn, organisation_id=org, name="Rose Cottage", address="1 Lane"
        )
    else:
        org = await conn.fetchval("SELECT organisation_id FROM homes WHERE id = $1", home)
    other_org = await home_queries.insert_organisation(conn, name="Another provider")
    family1 = await _person(conn, "daughter", Role.FAMILY, org)
    family2 = await _person(conn, "son", Role.FAMILY, org)
    coordinator = await _person(conn, "coordinator", Role.COORDINATOR, org)
    carer = await _person(conn, "carer", Role.CARER, org)
    outsider = await _person(conn, "outsider", Role.COORDINATOR, other_org)
    for uid, rel in ((family1, "daughter"), (family2, "son")):
        await home_queries.upsert_circle(
            conn, home_id=home, user_id=uid, relationship=rel, receives_alerts=True
        )
    await home_queries.insert_assignment(conn, home_id=home, user_id=carer)
    webhook = await add_point(
        conn,
        user_id=None,
        org=org,
        channel="webhook",
        address=webhook_url,
        secret={"signing_secret": "whsec-test"},
    )
    names = ("daughter", "son", "coordinator", "carer", "outsider")
    return People(
        org,
        home,
        family1,
        family2,
        coordinator,
        carer,
        outsider,
        webhook,
        {n: f"{n}@example.org" for n in names},
    )


async def set_policy(
    conn: asyncpg.Connection, *, org: UUID, home: UUID | None, policy: dict[str, Any]
) -> None:
    """Store a policy (validated by reading it)."""
    Policy.from_json(policy)
    await conn.execute(
        """
        INSERT INTO notification_policies (organisation_id, home_id, steps, repeats, noncritical_delay_s)
        VALUES ($1, $2, $3, $4, $5)
        """,
        org,
        home,
        policy["steps"],
        policy.get("repeats", 0),
        policy.get("noncritical_delay_s", 0),
    )


def three_steps(p: People, *, wait_s: float = 120) -> dict[str, Any]:
    """Daughter, then son, then the coordinators (email) and the provider's webhook."""
    return {
        "steps": [
            {"targets": [{"kind": "user", "id": str(p.family1)}], "channels": ["email"], "wait_s": wait_s},
            {"targets": [{"kind": "user", "id": str(p.family2)}], "channels": ["email"], "wait_s": wait_s},
            {
                "targets": [{"kind": "coordinators"}, {"kind": "webhook", "id": str(p.webhook)}],
                "channels": ["email", "webhook"],
                "wait_s": wait_s,
            },
        ]
    }


def receivers() -> Iterator[tuple[SmtpSink, HttpReceiver]]:
    """Started receivers, stopped after."""
    smtp, http = SmtpSink(), HttpReceiver()
    smtp.start()
    http.start()
    try:
        yield smtp, http
    finally:
        smtp.stop()
        http.stop()
