"""Pydantic models at the notification edges: contact points, preferences, policies, timelines, reports."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from kernel.strict import RequestBody, UuidText, at_most_as_sent

Channel = Literal["email", "sms", "webpush", "webhook"]
CHANNELS: tuple[Channel, ...] = ("email", "sms", "webpush", "webhook")
Severity = Literal["critical", "high", "medium", "low"]
TargetKind = Literal["user", "circle", "carers", "coordinators", "webhook"]

# A local wall-clock time, 'HH:MM' (no offset: quiet hours follow the person's zone through DST).
ClockTime = Annotated[str, StringConstraints(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+[1-9][0-9]{6,14}$")
_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$")
_POINT = "5f0c2a9e-8d1b-4c3a-9e7f-2b6d4a8c1e03"
_USER = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
_CONTACT_IN: dict[str, Any] = {
    "channel": "email",
    "address": "amara.okafor@example.org",
    "label": "home email",
}
_CONTACT_OUT: dict[str, Any] = {
    "id": _POINT,
    "user_id": _USER,
    "organisation_id": None,
    "channel": "email",
    "address": "amara.okafor@example.org",
    "label": "home email",
    "verified": False,
    "created_at": "2026-11-03T09:00:00Z",
    "signing_secret": None,
}


def _zone(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {value!r}; use an IANA name such as Europe/London") from exc
    return value


class PushKeys(RequestBody):
    """A browser's push subscription keys (from PushSubscription.toJSON().keys)."""

    p256dh: Annotated[str, StringConstraints(min_length=16, max_length=200)]
    auth: Annotated[str, StringConstraints(min_length=8, max_length=100)]


class ContactPointIn(RequestBody):
    """Where to reach the caller (or, with organisation_id, an organisation's webhook); sent a code."""

    model_config = ConfigDict(json_schema_extra={"examples": [_CONTACT_IN]})
    channel: Channel
    address: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=3, max_length=2000), at_most_as_sent(2000)
    ]
    label: Annotated[str, StringConstraints(max_length=200)] = ""
    keys: PushKeys | None = Field(None, description="Web Push only: the subscription's keys")
    organisation_id: UuidText | None = Field(None, description="webhooks of an organisation (coordinators)")

    @model_validator(mode="after")
    def _check_address(self) -> ContactPointIn:
        checks = {"email": _EMAIL, "sms": _PHONE, "webhook": _URL, "webpush": _URL}
        if not checks[self.channel].match(self.address):
            what = {"email": "an email address", "sms": "a phone number like +447700900123"}.get(
                self.channel, "an http(s) URL"
            )
            raise ValueError(f"address: must be {what}")
        if self.channel == "webpush" and self.keys is None:
            raise ValueError("keys: a Web Push subscription needs its keys")
        if self.organisation_id is not None and self.channel != "webhook":
            raise ValueError("organisation_id: only webhooks belong to an organisation")
        return self


class ContactPointOut(BaseModel):
    """A contact point; a webhook's signing secret is shown once, when it is made."""

    model_config = ConfigDict(json_schema_extra={"examples": [_CONTACT_OUT]})
    id: UUID
    user_id: UUID | None
    organisation_id: UUID | None
    channel: Channel
    address: str
    label: str
    verified: bool
    created_at: datetime
    signing_secret: str | None = None


class VerifyIn(RequestBody):
    """The code that was sent to the contact point."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"code": "482913"}]})
    code: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=4, max_length=12), at_most_as_sent(12)
    ]


_PREFS: dict[str, Any] = {
    "kinds": None,
    "min_severity": "medium",
    "channels": ["email", "sms"],
    "timezone": "Europe/London",
    "quiet_start": "22:00",
    "quiet_end": "07:00",
    "digest_low": True,
    "daily_digest": True,
    "digest_hour": 19,
}


class PreferencesIn(RequestBody):
    """What the caller wants to hear about, how and when not; critical alerts ignore quiet hours."""

    model_config = ConfigDict(json_schema_extra={"examples": [_PREFS]})
    kinds: Annotated[list[Annotated[str, StringConstraints(max_length=32)]], Field(max_length=40)] | None = (
        None
    )
    min_severity: Severity = "low"
    channels: Annotated[list[Channel], Field(max_length=4)] = Field(default_factory=lambda: list(CHANNELS))
    timezone: Annotated[str | None, AfterValidator(_zone)] = None
    quiet_start: ClockTime | None = Field(None, description="local 'HH:MM' in `timezone` (or the home's)")
    quiet_end: ClockTime | None = None
    digest_low: bool = True
    daily_digest: bool = True
    digest_hour: Annotated[int, Field(ge=0, le=23)] = 19

    @model_validator(mode="after")
    def _both_or_neither(self) -> PreferencesIn:
        if (self.quiet_start is None) != (self.quiet_end is None):
            raise ValueError("quiet_start and quiet_end: give both or neither")
        return self


class PreferencesOut(BaseModel):
    """A person's notification preferences."""

    model_config = ConfigDict(json_schema_extra={"examples": [_PREFS]})
    kinds: list[str] | None
    min_severity: Severity
    channels: list[Channel]
    timezone: str | None
    quiet_start: ClockTime | None
    quiet_end: ClockTime | None
    digest_low: bool
    daily_digest: bool
    digest_hour: int


class TargetIn(RequestBody):
    """Who a step tells: a person (id), the circle, the carers, the coordinators, or a webhook (its id)."""

    kind: TargetKind
    id: UuidText | None = None

    @model_validator(mode="after")
    def _id_when_needed(self) -> TargetIn:
        if (self.kind in ("user", "webhook")) != (self.id is not None):
            raise ValueError("id: required for kinds user and webhook, and only for them")
        return self


class StepIn(RequestBody):
    """One step: targets, channels, and how long to wait for an acknowledgement before the next."""

    targets: Annotated[list[TargetIn], Field(min_length=1, max_length=20)]
    channels: Annotated[list[Channel], Field(min_length=1, max_length=4)]
    wait_s: Annotated[float, Field(ge=0, le=86400)]


_POLICY: dict[str, Any] = {
    "steps": [
        {"targets": [{"kind": "circle"}], "channels": ["email", "sms", "webpush"], "wait_s": 120},
        {"targets": [{"kind": "carers"}], "channels": ["sms"], "wait_s": 120},
        {"targets": [{"kind": "coordinators"}], "channels": ["email", "sms"], "wait_s": 300},
    ],
    "repeats": 1,
    "noncritical_delay_s": 0,
}


class PolicyIn(RequestBody):
    """An escalation policy: ordered steps, repeated `repeats` more times; non-critical ones may wait."""

    model_config = ConfigDict(json_schema_extra={"examples": [_POLICY]})
    steps: Annotated[list[StepIn], Field(min_length=1, max_length=10)]
    repeats: Annotated[int, Field(ge=0, le=10)] = 0
    noncritical_delay_s: Annotated[int, Field(ge=0, le=86400)] = 0


class PolicyOut(BaseModel):
    """The policy in force: the home's own, the organisation's default, or the built-in one."""

    model_config = ConfigDict(json_schema_extra={"examples": [{**_POLICY, "source": "home"}]})
    steps: list[dict[str, Any]]
    repeats: int
    noncritical_delay_s: float
    source: Literal["home", "organisation", "built-in"]


class TestIn(RequestBody):
    """Which of the caller's verified contact points to send a test message to (all if no channel)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"channel": "email"}, {}]})
    channel: Channel | None = None


class QueuedOut(BaseModel):
    """Messages queued."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"queued": 2}]})
    queued: int


class AttemptOut(BaseModel):
    """One entry of a delivery's log."""

    at: datetime
    event: str
    detail: str


class DeliveryOut(BaseModel):
    """One message of an alert's chain, and everything that happened to it."""

    id: UUID
    round: int
    step: int
    recipient: str
    name: str
    channel: Channel
    address: str | None
    status: str
    deferred_reason: str | None
    created_at: datetime
    sent_at: datetime | None
    attempts: list[AttemptOut]


class TimelineOut(BaseModel):
    """Who was told what and when, and who acknowledged."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "alert_id": "3d5c8f0e-2a41-4b7c-9e11-6f2a7b8c9d01",
                    "chain": {"state": "stopped", "stop_reason": "acknowledged", "reached_last": False},
                    "deliveries": [
                        {
                            "id": "9b2f6f7e-2c1d-4a5b-8e9f-0a1b2c3d4e5f",
                            "round": 0,
                            "step": 0,
                            "recipient": f"user:{_USER}",
                            "name": "Amara Okafor",
                            "channel": "email",
                            "address": "amara.okafor@example.org",
                            "status": "sent",
                            "deferred_reason": None,
                            "created_at": "2026-11-03T09:00:01Z",
                            "sent_at": "2026-11-03T09:00:01Z",
                            "attempts": [
                                {"at": "2026-11-03T09:00:01Z", "event": "queued", "detail": ""},
                                {"at": "2026-11-03T09:00:01Z", "event": "sent", "detail": "SMTP: 250 OK"},
                                {
                                    "at": "2026-11-03T09:00:40Z",
                                    "event": "acknowledged",
                                    "detail": "with the link",
                                },
                            ],
                        }
                    ],
                    "acknowledged_at": "2026-11-03T09:00:40Z",
                    "acknowledged_by": _USER,
                }
            ]
        }
    )
    alert_id: UUID
    chain: dict[str, Any] | None
    deliveries: list[DeliveryOut]
    acknowledged_at: datetime | None
    acknowledged_by: UUID | None


class AckOut(BaseModel):
    """What an acknowledgement link did."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "alert_id": "3d5c8f0e-2a41-4b7c-9e11-6f2a7b8c9d01",
                    "status": "acknowledged",
                    "already": False,
                }
            ]
        }
    )
    alert_id: UUID
    status: str
    already: bool


class PushKeyOut(BaseModel):
    """The application server key browsers subscribe to Web Push with."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"application_server_key": "BIKDLc2onhhj4o1S..."}]}
    )
    application_server_key: str


class ReportRowOut(BaseModel):
    """One severity's response figures (seconds; shares from 0 to 1; null where nothing was measured)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "severity": "critical",
                    "alerts": 12,
                    "notify_median_s": 0.4,
                    "notify_p90_s": 0.9,
                    "ack_median_s": 41.0,
                    "ack_p90_s": 150.2,
                    "acked_within_60s": 0.667,
                    "acked_within_180s": 0.917,
                    "resolve_median_s": 900.0,
                    "resolve_p90_s": 2400.0,
                    "failed_deliveries": 0,
                    "failed_attempts": 1,
                    "reached_last_step": 1,
                }
            ]
        }
    )
    severity: Severity
    alerts: int
    notify_median_s: float | None
    notify_p90_s: float | None
    ack_median_s: float | None
    ack_p90_s: float | None
    acked_within_60s: float
    acked_within_180s: float
    resolve_median_s: float | None
    resolve_p90_s: float | None
    failed_deliveries: int
    failed_attempts: int
    reached_last_step: int
