"""Turning settings into connection parameters."""

from __future__ import annotations

from typing import Any

from kernel.mqtt import MqttConfig
from kernel.settings import Settings, SettingsError


def require_database_url(settings: Settings) -> str:
    """The database URL, or a SettingsError naming the setting."""
    if not settings.database_url:
        raise SettingsError(
            "TELECARE_DATABASE_URL is not set (only `telecare run` starts an embedded database)"
        )
    return settings.database_url


def mqtt_config(settings: Settings, *, client_id: str, **kwargs: Any) -> MqttConfig:
    """How to reach the broker as the backend."""
    if not settings.mqtt_url:
        raise SettingsError("TELECARE_MQTT_URL is not set (only `telecare run` starts an embedded broker)")
    return MqttConfig.from_url(
        settings.mqtt_url,
        client_id=client_id,
        username=settings.mqtt_username,
        password=settings.mqtt_password.get_secret_value() if settings.mqtt_password else None,
        ca_file=settings.mqtt_ca_file,
        cert_file=settings.mqtt_cert_file,
        key_file=settings.mqtt_key_file,
        **kwargs,
    )
