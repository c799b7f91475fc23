"""Email through an SMTP server (aiosmtplib): plain text with an HTML alternative and inline images
(written by notifications.channels.mime)."""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import parseaddr

import aiosmtplib

from notifications.channels.base import ChannelError, Outcome, Outgoing
from notifications.channels.mime import email_bytes, sender_header


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


@dataclass(frozen=True, slots=True)
class _Mail:
    sender: str  # the envelope's, a bare address
    to: str
    data: bytes


class EmailChannel:
    """Submits over SMTP sessions kept open between messages (at most `keep` idle), so a burst of alerts
    costs one message's commands each, not a connection and a greeting each. A kept session the server
    has closed meanwhile is replaced once, at once."""

    def __init__(self, config: SmtpConfig, *, keep: int = 8) -> None:
        self.config = config
        self.keep = keep
        self._idle: list[aiosmtplib.SMTP] = []
        self._from = sender_header(config.sender)
        self._envelope_from = parseaddr(config.sender)[1]

    async def send(self, outgoing: Outgoing) -> Outcome:
        """Submit the message; the server's acceptance counts as sent."""
        if not self.config.host:
            raise ChannelError("no SMTP server is configured (TELECARE_NOTIFY_SMTP_HOST)")
        mail = _Mail(self._envelope_from, outgoing.address, email_bytes(outgoing, sender=self._from))
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

    async def _submit(self, client: aiosmtplib.SMTP, mail: _Mail) -> Outcome:
        # An address beyond ASCII needs the server's SMTPUTF8 (aiosmtplib refuses to send it otherwise).
        options = [] if (mail.sender + mail.to).isascii() else ["SMTPUTF8"]
        try:
            errors, response = await client.sendmail(mail.sender, [mail.to], mail.data, mail_options=options)
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
