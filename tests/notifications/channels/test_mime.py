"""The email's bytes, read back by the standard library's parser as a mail client would read them."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import parsedate_to_datetime

from notifications.channels.base import Outgoing
from notifications.channels.mime import email_bytes, sender_header
from notifications.messages import Message

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


def _read(message: Message, *, address: str = "daughter@example.org") -> EmailMessage:
    outgoing = Outgoing(delivery_id="d-1", address=address, secret={}, message=message)
    sender = sender_header("Telecare Éire <alerts@telecare.example>")
    parsed = message_from_bytes(email_bytes(outgoing, sender=sender), policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_text_html_and_an_inline_chart_arrive_as_sent() -> None:
    html = "<p>Mrs Ó Briain pressed her alarm at 03:12</p><img src='cid:chart'>"
    mail = _read(
        Message(
            subject="URGENT: alarm at Rose Cottage — Mrs Ó Briain",
            text="Pressed at 03:12 ✓",
            html=html,
            images=(("chart", PNG, "png"),),
        )
    )
    assert mail["Subject"] == "URGENT: alarm at Rose Cottage — Mrs Ó Briain"
    assert mail["From"].addresses[0].display_name == "Telecare Éire"
    assert mail["To"] == "daughter@example.org"
    assert mail["Message-ID"] == "<d-1@telecare>"
    assert parsedate_to_datetime(mail["Date"]).tzinfo is not None
    assert mail.get_content_type() == "multipart/alternative"
    plain, rich = mail.get_body(("plain",)), mail.get_body(("html",))
    assert plain is not None and rich is not None
    assert plain.get_content().rstrip("\n") == "Pressed at 03:12 ✓"
    assert rich.get_content().rstrip("\n") == html
    images = [part for part in mail.walk() if part.get_content_maintype() == "image"]
    assert len(images) == 1 and images[0]["Content-ID"] == "<chart>"
    assert images[0].get_payload(decode=True) == PNG


def test_a_plain_message_is_one_part_and_a_long_subject_is_cut_within_smtp_limits() -> None:
    subject = "Daily digest " + "x" * 1200
    outgoing = Outgoing(
        delivery_id="d-2", address="a@example.org", secret={}, message=Message(subject=subject, text="ok")
    )
    raw = email_bytes(outgoing, sender="alerts@telecare.example")
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    mail = message_from_bytes(raw, policy=policy.default)
    assert mail.get_content_type() == "text/plain"
    assert mail["Subject"] == subject[:199] + "…"
    assert mail.get_content().rstrip("\n") == "ok"
