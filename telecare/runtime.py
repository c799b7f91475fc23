"""Starting what is not configured: embedded PostgreSQL and Mosquitto under the data folder."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from pydantic import SecretStr

from telecare.embedded import EmbeddedMosquitto, EmbeddedPostgres
from telecare.embedded.mosquitto import ADMIN_USER
from telecare.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Embedded:
    """The servers this process started and must stop."""

    postgres: EmbeddedPostgres | None = None
    mosquitto: EmbeddedMosquitto | None = None
    started: list[str] = field(default_factory=list)

    def stop(self) -> None:
        """Stop whatever was started, broker first (it may still be flushing to nobody)."""
        if self.mosquitto is not None:
            self.mosquitto.stop()
        if self.postgres is not None:
            self.postgres.stop()


def start_embedded(settings: Settings) -> tuple[Settings, Embedded]:
    """Start an embedded server for each of database and broker that settings leave unset.

    Returns settings with the URLs and credentials filled in, and the handle that stops them.
    """
    embedded = Embedded()
    update: dict[str, object] = {}
    data = settings.data_dir.resolve()
    try:
        if settings.database_url is None:
            embedded.postgres = EmbeddedPostgres(
                data / "pg", settings.embedded_pg_port, bin_dir=settings.pg_bin_dir
            )
            embedded.postgres.start()
            update["database_url"] = embedded.postgres.dsn()
        if settings.mqtt_url is None:
            embedded.mosquitto = EmbeddedMosquitto(data / "mqtt", settings.embedded_mqtt_port)
            embedded.mosquitto.start()
            update |= {
                "mqtt_url": embedded.mosquitto.url,
                "mqtt_username": ADMIN_USER,
                "mqtt_password": SecretStr(embedded.mosquitto.admin_password),
            }
    except BaseException:
        embedded.stop()
        raise
    return settings.model_copy(update=update), embedded
