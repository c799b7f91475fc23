"""Email through an SMTP server (aiosmtplib): plain text with an HTML alternative and inline images."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage

import aiosmtplib

from notifications.channels.base import ChannelError, Outcome, Outgoing


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    """Where and how to submit mail."""

    host: str | None
    port: int
    sender: str
    username: str | None = None
    password: str | None = None
    tls: bool = False
    starttls: bool = False
    timeout_s: float = 10.0


class EmailChannel:
    """Sends each message in its own SMTP session (a failure never leaves a broken connection behind)."""

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config

    async def send(self, outgoing: Outgoing) -> Outcome:
        """Submit the message; the server's acceptance counts as sent."""
        c = self.config
        if not c.host:
            raise ChannelError("no SMTP server is configured (TELECARE_NOTIFY_SMTP_HOST)")
        try:
            errors, response = await aiosmtplib.send(
                build_email(outgoing, sender=c.sender),
                hostname=c.host,
                port=c.port,
                username=c.username,
                password=c.password,
                use_tls=c.tls,
                start_tls=c.starttls,
                timeout=c.timeout_s,
            )
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            permanent = isinstance(exc, aiosmtplib.SMTPRecipientsRefused)
            raise ChannelError(f"SMTP: {exc.__class__.__name__}: {exc}", permanent=permanent) from exc
        if errors:
            raise ChannelError(f"SMTP refused: {errors}", permanent=True)
        return Outcome("sent", f"SMTP: {response}")


def build_email(outgoing: Outgoing, *, sender: str) -> EmailMessage:
    """The MIME message; its Message-ID carries the delivery id, so a repeat can be recognised."""
    message = outgoing.message
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = outgoing.address
    mail["Subject"] = message.subject
    mail["Message-ID"] = f"<{outgoing.delivery_id}@telecare>"
    mail["X-Telecare-Delivery"] = outgoing.delivery_id
    mail.set_content(message.text)
    if message.html is not None:
        mail.add_alternative(message.html, subtype="html")
        html_part = mail.get_body(preferencelist=("html",))
        assert isinstance(html_part, EmailMessage)
        for cid, data, subtype in message.images:
            html_part.add_related(data, maintype="image", subtype=subtype, cid=f"<{cid}>")
    return mail
