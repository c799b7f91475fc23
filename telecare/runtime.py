"""Starting what is not configured: embedded PostgreSQL and Mosquitto under the data folder."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from pydantic import SecretStr

from kernel.embedded import EmbeddedMosquitto, EmbeddedPostgres
from kernel.embedded.mosquitto import ADMIN_USER
from kernel.embedded.process import read_or_create_secret
from kernel.settings import Settings
from telecare.demo import ADMIN_EMAIL as DEMO_ADMIN_EMAIL

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


def start_embedded(settings: Settings, *, attach: bool = False) -> tuple[Settings, Embedded]:
    """Start an embedded server for each of database and broker that settings leave unset.

    With attach, servers already running from the data folder (a demo in another terminal) are used
    as they are and left running. Returns settings with the URLs, credentials, JWT secret and demo admin
    filled in, and the handle that stops what this call started.
    """
    embedded = Embedded()
    update: dict[str, object] = {}
    data = settings.data_dir.resolve()
    try:
        if settings.database_url is None:
            postgres = EmbeddedPostgres(data / "pg", settings.embedded_pg_port, bin_dir=settings.pg_bin_dir)
            if not (attach and postgres.running_pid()):
                postgres.start()
                embedded.postgres = postgres
            update["database_url"] = postgres.dsn()
        if settings.mqtt_url is None:
            mosquitto = EmbeddedMosquitto(data / "mqtt", settings.embedded_mqtt_port)
            if not (attach and mosquitto.running_pid()):
                mosquitto.start()
                embedded.mosquitto = mosquitto
            update |= {
                "mqtt_url": mosquitto.url,
                "mqtt_username": ADMIN_USER,
                "mqtt_password": SecretStr(mosquitto.admin_password),
            }
        if settings.jwt_secret is None:
            update["jwt_secret"] = SecretStr(read_or_create_secret(data / "jwt.secret"))
        if settings.bootstrap_admin_email is None:
            # The demo's accounts (admin, coordinator, family member) share this generated password.
            update["bootstrap_admin_email"] = DEMO_ADMIN_EMAIL
            update["bootstrap_admin_password"] = SecretStr(read_or_create_secret(data / "demo.password"))
    except BaseException:
        embedded.stop()
        raise
    return settings.model_copy(update=update), embedded
