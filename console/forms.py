"""Form fields into the domains' request bodies: the text a browser posts made into the types the
bodies declare (they are strict: a number is never taken from a string by pydantic), and a body that
does not validate is a page saying what to correct."""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, ValidationError

from console.errors import InvalidForm
from notifications.schemas import ContactPointIn, PreferencesIn
from visits.schemas import PhoneCheckIn, TaskIn

M = TypeVar("M", bound=BaseModel)


def body_of(model: type[M], fields: dict[str, object]) -> M:
    """The request body from the fields; InvalidForm naming what is wrong otherwise."""
    try:
        return model.model_validate(fields)
    except ValidationError as exc:
        raise InvalidForm(words(exc)) from exc


def words(exc: ValidationError) -> str:
    """A validation error as one sentence a person can act on."""
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"]).replace("_", " ")
        message = str(error["msg"]).removeprefix("Value error, ")
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts) + "."


def number(fields: dict[str, str], name: str) -> float | None:
    """An optional number field ('' is none)."""
    text = fields.get(name, "").strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError as exc:
        raise InvalidForm(f"{name.replace('_', ' ')}: not a number") from exc


def phone_check(fields: dict[str, str]) -> PhoneCheckIn:
    """A check-in or check-out with the browser's location fix, if it gave one (the phone's time is the
    server's: the page posts at once, unlike an offline app)."""
    return body_of(
        PhoneCheckIn,
        {
            "latitude": number(fields, "latitude"),
            "longitude": number(fields, "longitude"),
            "accuracy_m": number(fields, "accuracy_m"),
        },
    )


def task(fields: dict[str, str]) -> TaskIn:
    """A task marked done or not done, with its note."""
    return body_of(
        TaskIn,
        {"task": fields.get("task", ""), "status": fields.get("status", ""), "note": fields.get("note", "")},
    )


def contact_point(fields: dict[str, str]) -> ContactPointIn:
    """A new email address or phone number of the person's own."""
    return body_of(
        ContactPointIn,
        {
            "channel": fields.get("channel", ""),
            "address": fields.get("address", "").strip(),
            "label": fields.get("label", "").strip()[:200],
        },
    )


def preferences(fields: dict[str, list[str]], current: dict[str, object]) -> PreferencesIn:
    """The preferences form: severity, channels, quiet hours (both or neither), the daily digest; the
    alert kinds chosen through the API are kept as they are."""
    one = {key: values[0] for key, values in fields.items()}
    quiet = one.get("quiet", "") == "on"
    hour = one.get("digest_hour", "19")
    if not hour.isdigit():
        raise InvalidForm("digest hour: not an hour")
    return body_of(
        PreferencesIn,
        {
            "kinds": current.get("kinds"),
            "min_severity": one.get("min_severity", ""),
            "channels": fields.get("channels", []),
            "timezone": one.get("timezone") or None,
            "quiet_start": (one.get("quiet_start") or None) if quiet else None,
            "quiet_end": (one.get("quiet_end") or None) if quiet else None,
            "digest_low": one.get("digest_low", "") == "on",
            "daily_digest": one.get("daily_digest", "") == "on",
            "digest_hour": int(hour),
        },
    )
