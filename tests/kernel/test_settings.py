"""Settings: defaults, environment, and errors that name the setting."""

from __future__ import annotations

import pytest

from kernel.settings import LogFormat, SettingsError, load_settings


def test_defaults_mean_embedded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir("/")
    settings = load_settings()
    assert settings.database_url is None and settings.mqtt_url is None
    assert settings.log_format is LogFormat.TEXT


def test_environment_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELECARE_API_PORT", "9001")
    monkeypatch.setenv("TELECARE_LOG_FORMAT", "json")
    monkeypatch.setenv("TELECARE_MQTT_URL", "mqtts://broker.example:8883")
    settings = load_settings()
    assert settings.api_port == 9001 and settings.log_format is LogFormat.JSON
    assert settings.mqtt_url == "mqtts://broker.example:8883"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TELECARE_API_PORT", "seventy"),
        ("TELECARE_DATABASE_URL", "mysql://nope"),
        ("TELECARE_MQTT_URL", "http://broker"),
        ("TELECARE_LOG_LEVEL", "LOUD"),
        ("TELECARE_RETENTION_DAYS", "1"),
        ("TELECARE_STORAGE", "mongodb"),
    ],
)
def test_invalid_settings_name_the_setting(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=name):
        load_settings()
