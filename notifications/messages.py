"""What a message says, from the template files under notifications/templates/ (Jinja2).

Plain words: what happened, where, when (in the reader's own time zone), what to do, and the
acknowledgement link. The SMS form is kept within two segments, shortening the title and the home's name
rather than dropping the link.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

import jinja2

from notifications import sms

_SEVERITY_WORDS = {"critical": "URGENT", "high": "Alert", "medium": "Notice", "low": "For information"}
_COLOURS = {"critical": "#b00020", "high": "#c25100", "medium": "#8a6d00", "low": "#33691e"}
MAX_SMS_SEGMENTS = 2


@dataclass(frozen=True, slots=True)
class Message:
    """One message in every form a channel may want."""

    subject: str
    text: str
    html: str | None = None
    sms: str = ""
    data: dict[str, Any] = field(default_factory=dict)  # the webhook's and Web Push's JSON
    images: tuple[tuple[str, bytes, str], ...] = ()  # (content id, bytes, mime subtype) for inline images


@dataclass(frozen=True, slots=True)
class AlertFacts:
    """What the templates need to know about an alert and its home."""

    alert_id: str
    kind: str
    severity: str
    title: str
    explanation: str
    room: str | None
    triggered_at: datetime
    home_id: str
    home: str
    address: str


@functools.cache
def environment() -> jinja2.Environment:
    """The templates, HTML escaped (a home's name is someone's text)."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("notifications", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        keep_trailing_newline=False,
        undefined=jinja2.StrictUndefined,
        # The templates are package files that do not change under a running process: no stat of each
        # one at every render (five a message, a tenth of an email's CPU in a burst).
        auto_reload=False,
    )


def render(name: str, **context: Any) -> str:
    """One template, stripped."""
    return environment().get_template(name).render(**context).strip()


@functools.cache
def _advice() -> dict[str, list[str]]:
    text = resources.files("notifications").joinpath("templates/advice.json").read_text("utf-8")
    data: dict[str, list[str]] = json.loads(text)
    return data


def advice(kind: str) -> tuple[str, str]:
    """What to do about an alert of this kind: in full, and short for SMS."""
    full, short = _advice().get(kind) or _advice()["*"]
    return full, short


def local_time(at: datetime, tz: str, *, short: bool = False) -> str:
    """'Tue 3 Nov 14:05 GMT' in the reader's zone ('14:05 3 Nov' when short)."""
    local = at.astimezone(ZoneInfo(tz))
    if short:
        return f"{local:%H:%M} {local.day} {local:%b}"
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M} {local.tzname()}"


def _wait_words(seconds: float | None) -> str:
    if not seconds:
        return ""
    return f"{round(seconds / 60)} min" if seconds >= 90 else f"{round(seconds)} s"


def alert_message(
    facts: AlertFacts,
    *,
    tz: str,
    ack_url: str,
    link_expires: datetime,
    next_wait_s: float | None,
    reason: str,
    step: int,
) -> Message:
    """The message of an alert for one reader."""
    full, short = advice(facts.kind)
    context = {
        "severity_word": _SEVERITY_WORDS.get(facts.severity, "Alert"),
        "colour": _COLOURS.get(facts.severity, "#333"),
        "title": facts.title,
        "explanation": facts.explanation,
        "home": facts.home,
        "address": facts.address,
        "room": facts.room,
        "when": local_time(facts.triggered_at, tz),
        "when_short": local_time(facts.triggered_at, tz, short=True),
        "advice": full,
        "advice_short": short,
        "ack_url": ack_url,
        "link_expires": local_time(link_expires, tz),
        "next_wait": _wait_words(next_wait_s),
        "reason": reason,
    }
    data = {
        "event": "alert",
        "alert": {
            "id": facts.alert_id,
            "kind": facts.kind,
            "severity": facts.severity,
            "title": facts.title,
            "explanation": facts.explanation,
            "room": facts.room,
            "triggered_at": facts.triggered_at.isoformat(),
            "home": {"id": facts.home_id, "name": facts.home, "address": facts.address},
        },
        "step": step,
        "ack_url": ack_url,
        "ack_expires_at": link_expires.isoformat(),
    }
    return Message(
        subject=render("alert.subject.txt", **context),
        text=render("alert.txt", **context),
        html=render("alert.html", **context),
        sms=sms_text(context),
        data=data,
    )


def sms_text(context: dict[str, Any]) -> str:
    """The SMS form, in GSM-7, shortened until it fits in MAX_SMS_SEGMENTS segments."""
    fields = {k: sms.to_gsm7(v) if isinstance(v, str) else v for k, v in context.items()}
    for limit in (80, 48, 32, 20, 12):
        trimmed = {
            **fields,
            "title": sms.shorten(fields["title"], limit),
            "home": sms.shorten(fields["home"], limit),
        }
        text = render("alert.sms.txt", **trimmed)
        if sms.segments(text) <= MAX_SMS_SEGMENTS:
            return text
    return render("alert.sms.txt", **{**trimmed, "advice_short": ""})


def simple_message(name: str, *, data: dict[str, Any], **context: Any) -> Message:
    """A message from `<name>.subject.txt` and `<name>.txt` (verification codes, test messages)."""
    text = render(f"{name}.txt", **context)
    return Message(
        subject=render(f"{name}.subject.txt", **context), text=text, sms=sms.to_gsm7(text), data=data
    )
