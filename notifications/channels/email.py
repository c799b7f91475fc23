"""Email through an SMTP server (aiosmtplib): plain text with an HTML alternative and inline images."""

from __future__ import annotations

from dataclasses import dataclass
from email.header import Header
from email.message import Message
from email.mime.image import MIMEImage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

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
    """Submits over SMTP sessions kept open between messages (at most `keep` idle), so a burst of alerts
    costs one message's commands each, not a connection and a greeting each. A kept session the server
    has closed meanwhile is replaced once, at once."""

    def __init__(self, config: SmtpConfig, *, keep: int = 8) -> None:
        self.config = config
        self.keep = keep
        self._idle: list[aiosmtplib.SMTP] = []

    async def send(self, outgoing: Outgoing) -> Outcome:
        """Submit the message; the server's acceptance counts as sent."""
        if not self.config.host:
            raise ChannelError("no SMTP server is configured (TELECARE_NOTIFY_SMTP_HOST)")
        mail = build_email(outgoing, sender=self.config.sender)
        while self._idle:
            client = self._idle.pop()
            try:
                return await self._submit(client, mail)
            except (aiosmtplib.SMTPServerDisconnected, ConnectionError):
                client.close()  # closed by the server while idle: try a fresh session
            except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
                client.close()
                raise ChannelError(f"SMTP: {exc.__class__.__name__}: {exc}") from exc
            except ChannelError:
                await _close(client)
                raise
        client = await self._connect()
        try:
            return await self._submit(client, mail)
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            await _close(client)
            raise ChannelError(f"SMTP: {exc.__class__.__name__}: {exc}") from exc
        except ChannelError:
            await _close(client)
            raise

    async def _connect(self) -> aiosmtplib.SMTP:
        c = self.config
        client = aiosmtplib.SMTP(
            hostname=c.host,
            port=c.port,
            username=c.username,
            password=c.password,
            use_tls=c.tls,
            start_tls=c.starttls,
            timeout=c.timeout_s,
        )
        try:
            await client.connect()
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise ChannelError(f"SMTP: {exc.__class__.__name__}: {exc}") from exc
        return client

    async def _submit(self, client: aiosmtplib.SMTP, mail: Message) -> Outcome:
        try:
            errors, response = await client.send_message(mail)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            raise ChannelError(f"SMTP refused the recipient: {exc}", permanent=True) from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise ChannelError(f"SMTP: {exc.code} {exc.message}", permanent=exc.code >= 500) from exc
        if len(self._idle) < self.keep:
            self._idle.append(client)
        else:
            await _close(client)
        if errors:
            raise ChannelError(f"SMTP refused: {errors}", permanent=True)
        return Outcome("sent", f"SMTP: {response}")

    async def close(self) -> None:
        """Quit the kept sessions."""
        while self._idle:
            await _close(self._idle.pop())


async def _close(client: aiosmtplib.SMTP) -> None:
    try:
        await client.quit()
    except (aiosmtplib.SMTPException, OSError, TimeoutError):
        client.close()


def build_email(outgoing: Outgoing, *, sender: str) -> Message:
    """The MIME message; its Message-ID carries the delivery id, so a repeat can be recognised.

    Built with the email package's compat32 classes: the modern EmailMessage parses and refolds every
    header it is given, which cost more CPU than the rest of a delivery in a burst of alerts.
    """
    message = outgoing.message
    text = MIMEText(message.text, "plain", "utf-8")
    if message.html is None:
        mail: Message = text
    else:
        html: Message = MIMEText(message.html, "html", "utf-8")
        if message.images:
            related = MIMEMultipart("related")
            related.attach(html)
            for cid, data, subtype in message.images:
                image = MIMEImage(data, _subtype=subtype)
                image.add_header("Content-ID", f"<{cid}>")
                image.add_header("Content-Disposition", "inline")
                related.attach(image)
            html = related
        mail = MIMEMultipart("alternative")
        mail.attach(text)
        mail.attach(html)
    mail["From"] = sender
    mail["To"] = outgoing.address
    # An ASCII subject stays readable as it is; only other text needs RFC 2047 encoding.
    subject = message.subject
    mail["Subject"] = subject if subject.isascii() else Header(subject, "utf-8").encode()
    mail["Message-ID"] = f"<{outgoing.delivery_id}@telecare>"
    mail["X-Telecare-Delivery"] = outgoing.delivery_id
    return mail
