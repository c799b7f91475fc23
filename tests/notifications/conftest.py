"""Fixtures of the notification tests: real SMTP and HTTP receivers, settings that point at them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kernel.settings import Settings
from tests.notifications.support import HttpReceiver, SmtpSink, receivers


@pytest.fixture
def sinks() -> Iterator[tuple[SmtpSink, HttpReceiver]]:
    """A started SMTP server and HTTP receiver."""
    yield from receivers()


@pytest.fixture
def notify_settings(settings: Settings, sinks: tuple[SmtpSink, HttpReceiver]) -> Settings:
    """The test settings, sending email to the test's SMTP server, retrying fast."""
    smtp, _ = sinks
    return settings.model_copy(
        update={
            "notify_smtp_host": "127.0.0.1",
            "notify_smtp_port": smtp.port,
            "notify_poll_s": 0.1,
            "notify_retry_base_s": 1.0,
            "notify_retry_max_s": 5.0,
            "notify_send_timeout_s": 5.0,
            "notify_public_url": "http://test",
        }
    )
