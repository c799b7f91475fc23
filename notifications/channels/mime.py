"""The email as bytes, written directly: plain text with an HTML alternative and inline images.

The email package's generator (even with compat32 classes) cost more CPU than everything else a delivery
does in a burst of alerts, ~0.3 ms a message, for a structure that is always the same: a few headers and
base64 parts. Every header value is either ours (ids, the configured sender), a verified address (no
whitespace) or the subject, which is kept to one line and RFC 2047-encoded when it is not plain ASCII.
"""

from __future__ import annotations

import base64
import secrets
from email.header import Header
from email.utils import formataddr, formatdate, parseaddr

from notifications.channels.base import ChannelError, Outgoing

_CRLF = b"\r\n"
# A subject longer than a mail client shows is cut: one unbroken word could not be folded within
# SMTP's line limit of 998 characters, and nobody reads past the first few dozen.
_SUBJECT_AT_MOST = 200

Part = tuple[list[tuple[str, str]], bytes]  # headers, body


def sender_header(sender: str) -> str:
    """The From header of a configured sender ("Name <address>"), its name RFC 2047-encoded if need be."""
    return formataddr(parseaddr(sender), charset="utf-8")


def email_bytes(outgoing: Outgoing, *, sender: str) -> bytes:
    """The message as sent; its Message-ID carries the delivery id, so a repeat can be recognised."""
    if any(c in outgoing.address for c in "\r\n"):
        raise ChannelError("an email address cannot hold a line break", permanent=True)
    message = outgoing.message
    body = _text("plain", message.text)
    if message.html is not None:
        html = _text("html", message.html)
        if message.images:
            html = _multipart("related", [html, *(_image(*image) for image in message.images)])
        body = _multipart("alternative", [body, html])
    headers, content = body
    headers = [
        *headers,
        ("From", sender),
        ("To", outgoing.address),
        ("Subject", _subject(message.subject)),
        # RFC 5322 requires it, and receiving servers' spam filters score a message without one.
        ("Date", formatdate(usegmt=True)),
        ("Message-ID", f"<{outgoing.delivery_id}@telecare>"),
        ("X-Telecare-Delivery", outgoing.delivery_id),
    ]
    return _write(headers, content)


def _subject(subject: str) -> str:
    one_line = " ".join(subject.splitlines())
    if len(one_line) > _SUBJECT_AT_MOST:
        one_line = one_line[: _SUBJECT_AT_MOST - 1] + "…"
    # An ASCII subject stays readable as it is; only other text needs RFC 2047 encoding.
    if one_line.isascii():
        return one_line
    return Header(one_line, "utf-8", header_name="Subject").encode(linesep="\r\n")


def _text(subtype: str, text: str) -> Part:
    headers = [
        ("Content-Type", f'text/{subtype}; charset="utf-8"'),
        ("MIME-Version", "1.0"),
        ("Content-Transfer-Encoding", "base64"),
    ]
    return headers, _base64(text.encode())


def _image(cid: str, data: bytes, subtype: str) -> Part:
    headers = [
        ("Content-Type", f"image/{subtype}"),
        ("MIME-Version", "1.0"),
        ("Content-Transfer-Encoding", "base64"),
        ("Content-ID", f"<{cid}>"),
        ("Content-Disposition", "inline"),
    ]
    return headers, _base64(data)


def _multipart(subtype: str, parts: list[Part]) -> Part:
    # A boundary cannot occur in base64 lines: '-' and '_' are not in its alphabet.
    boundary = f"=_{secrets.token_hex(12)}"
    dash = f"--{boundary}".encode()
    body = b"".join(dash + _CRLF + _write(*part) + _CRLF for part in parts) + dash + b"--" + _CRLF
    headers = [("Content-Type", f'multipart/{subtype}; boundary="{boundary}"'), ("MIME-Version", "1.0")]
    return headers, body


def _write(headers: list[tuple[str, str]], body: bytes) -> bytes:
    head = "".join(f"{name}: {value}\r\n" for name, value in headers)
    return head.encode() + _CRLF + body


def _base64(data: bytes) -> bytes:
    return base64.encodebytes(data).replace(b"\n", _CRLF)
