"""Server-rendered pages: one Jinja2 environment (autoescaped), its filters, and HTML responses."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse

TEMPLATES = Path(__file__).parent / "templates"

SEVERITY_WORDS = {"critical": "Critical", "high": "High", "medium": "Medium", "low": "Low"}
LIVE_WORDS = {
    "upcoming": "Upcoming",
    "due": "Due now",
    "late": "Late",
    "in_progress": "In progress",
    "overrunning": "Overrunning",
    "completed": "Completed",
    "missed": "Missed",
    "cancelled": "Cancelled",
}
RESOLUTION_WORDS = {
    "cleared": "cleared by itself",
    "cancelled": "cancelled by the resident",
    "handled": "handled",
    "false_alarm": "a false alarm",
}


@cache
def environment() -> jinja2.Environment:
    """The templates' environment, built once."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(("html",), default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["local"] = local_time
    env.filters["ago"] = ago
    env.globals["severity_words"] = SEVERITY_WORDS
    env.globals["resolution_words"] = RESOLUTION_WORDS
    env.globals["live_words"] = LIVE_WORDS
    return env


def local_time(value: datetime | None, tz: str = "UTC", fmt: str = "%H:%M") -> str:
    """A time on the home's clock ('' for none)."""
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(tz)).strftime(fmt)


def ago(value: datetime | None, now: datetime | None = None) -> str:
    """How long ago, in words a person reads at a glance."""
    if value is None:
        return "never"
    seconds = max(0.0, ((now or datetime.now(UTC)) - value).total_seconds())
    if seconds < 90:
        return "just now"
    minutes = round(seconds / 60)
    if minutes < 90:
        return f"{minutes} minutes ago"
    hours = round(minutes / 60)
    if hours < 36:
        return f"{hours} hours ago"
    return f"{round(hours / 24)} days ago"


def page(request: Request, template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    """Render a template to an HTML response (no caching: every page is someone's private data)."""
    html = environment().get_template(template).render(request=request, **context)
    headers = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
    return HTMLResponse(html, status_code=status, headers=headers)
