"""The one Settings object: environment variables with the TELECARE_ prefix and an optional .env."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class LogFormat(StrEnum):
    """How log lines are written."""

    TEXT = "text"
    JSON = "json"


class PriorityLane(StrEnum):
    """Where ingest's priority lane (alarms, falls, smoke, water leaks) runs: see ingest/priority.py."""

    PROCESS = "process"  # a child process of the ingest worker, with its own MQTT session and connection
    INLINE = "inline"  # the worker's own event loop, still with its own MQTT session and connection
    OFF = "off"  # no lane of its own: priority kinds only through the worker's main session


class StorageMode(StrEnum):
    """Which time-series storage the migrations build."""

    AUTO = "auto"
    TIMESCALEDB = "timescaledb"
    POSTGRES = "postgres"


class SettingsError(Exception):
    """Settings are invalid; the message names the setting."""


Port = Annotated[int, Field(ge=0, le=65535)]


class Settings(BaseSettings):
    """Everything an operator can configure. Unset database/MQTT URLs mean 'embedded'."""

    model_config = SettingsConfigDict(
        env_prefix="TELECARE_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str | None = Field(
        default=None, description="postgresql://user:pass@host:port/db; unset starts an embedded cluster"
    )
    db_pool_min: int = Field(default=2, ge=1, le=100)
    db_pool_max: int = Field(default=10, ge=1, le=500)
    storage: StorageMode = StorageMode.AUTO
    retention_days: int = Field(default=365, ge=7, le=3650, description="raw readings kept this long")
    partitions_ahead_days: int = Field(default=7, ge=1, le=60)

    mqtt_url: str | None = Field(
        default=None, description="mqtt://host:port or mqtts://host:port; unset starts embedded Mosquitto"
    )
    mqtt_username: str | None = None
    mqtt_password: SecretStr | None = None
    mqtt_ca_file: Path | None = None
    mqtt_cert_file: Path | None = None
    mqtt_key_file: Path | None = None
    mqtt_topic_root: str = Field(default="telecare", pattern=r"^[A-Za-z0-9_\-/]+$")
    mqtt_client_id: str = Field(default="telecare-ingest", pattern=r"^[A-Za-z0-9_\-]{1,64}$")
    mqtt_receive_maximum: int = Field(default=1000, ge=1, le=65535)

    data_dir: Path = Field(default=Path("var"), description="embedded PostgreSQL and Mosquitto live here")
    pg_bin_dir: Path | None = Field(default=None, description="where initdb/pg_ctl are; searched if unset")
    embedded_pg_port: Port = 55432
    embedded_mqtt_port: Port = 51883

    api_host: str = "127.0.0.1"
    api_port: Port = 8000
    api_max_body_bytes: int = Field(
        default=1_048_576, ge=1024, le=1_073_741_824, description="larger request bodies answer 413"
    )

    # Accounts and the API's authentication (see docs/production.md, "Accounts and access").
    jwt_secret: SecretStr | None = Field(
        default=None, description="HS256 key of access tokens (32+ characters); required by the API"
    )
    access_token_minutes: float = Field(
        default=15, gt=0, le=1440, description="access token lifetime (fractions allowed: 0.5 is 30 s)"
    )
    refresh_token_days: int = Field(default=30, ge=1, le=365)
    invitation_days: int = Field(default=7, ge=1, le=90)
    # Login throttling: growing delays, never a lock (accounts/throttle.py, docs/production.md).
    login_window_s: int = Field(default=3600, ge=10, le=86400, description="failures forgotten after this")
    login_free_failures: int = Field(default=3, ge=0, le=100, description="per email and network")
    login_network_free_failures: int = Field(default=30, ge=0, le=100000)
    login_email_free_failures: int = Field(default=100, ge=0, le=100000)
    login_base_delay_s: float = Field(default=1.0, gt=0, le=3600)
    login_max_delay_s: float = Field(default=300.0, gt=0, le=86400)
    login_known_network_days: int = Field(default=90, ge=0, le=3650)
    bootstrap_admin_email: str | None = Field(
        default=None, description="create this platform admin at API start if no platform admin exists"
    )
    bootstrap_admin_password: SecretStr | None = None
    scope_cache_s: float = Field(default=5.0, ge=0, le=300, description="how long a token's homes are cached")
    sse_heartbeat_s: float = Field(default=15.0, gt=0, le=300)
    api_workers: int = Field(default=1, ge=1, le=64, description="uvicorn worker processes of `telecare api`")
    api_docs: bool = Field(default=True, description="serve /docs, /redoc and /openapi.json")
    api_metrics: bool = Field(default=True, description="serve the API's /metrics")
    metrics_token: SecretStr | None = Field(
        default=None, description="if set, /metrics of the API wants `Authorization: Bearer <this>`"
    )

    # The web console under /console (issue 16; README, "The web console").
    console_cookie_secure: bool = Field(
        default=True, description="mark the console's session cookie Secure (off only for plain-http dev)"
    )
    console_session_hours: float = Field(
        default=12.0, gt=0, le=168, description="a console login lasts this long (logout ends it sooner)"
    )

    log_level: str = Field(default="INFO", pattern=r"^(DEBUG|INFO|WARNING|ERROR|CRITICAL)$")
    log_format: LogFormat = LogFormat.TEXT

    ingest_shared_subscription: bool = Field(
        default=False,
        description="join the shared subscription so several workers split the load (see docs/scaling.md)",
    )
    ingest_batch_size: int = Field(default=500, ge=1, le=50000)
    ingest_metrics_port: Port = Field(
        default=0, description="serve /metrics of `telecare ingest` here; 0: off"
    )
    ingest_batch_ms: int = Field(default=100, ge=1, le=10000)
    ingest_priority_lane: PriorityLane = Field(
        default=PriorityLane.PROCESS,
        description="alarms on a session, event loop and process of their own (process, inline, off)",
    )

    health_check_s: float = Field(
        default=10.0, gt=0, le=3600, description="how often missed heartbeats are checked"
    )

    simulate_homes: int = Field(default=3, ge=0, le=10000, description="simulated homes in `telecare run`")

    # The streaming detector (see docs/production.md, "The detector").
    detector_poll_ms: int = Field(
        default=100, ge=10, le=10000, description="how often committed readings are read"
    )
    detector_tick_s: float = Field(default=5.0, gt=0, le=600, description="how often silence is checked")
    detector_checkpoint_s: float = Field(default=5.0, gt=0, le=600)
    detector_min_history_days: int = Field(
        default=7, ge=1, le=90, description="days before a home's normal is learned"
    )
    detector_default_inactivity_s: float = Field(
        default=9000.0, gt=0, le=86400, description="quiet limit of a home still on cautious defaults"
    )
    detector_offline_grace_s: float = Field(default=600.0, ge=0, le=86400)
    # Detector processes on disjoint shares of the homes (issue 17): each `telecare detect` takes the
    # first free one of this many partitions, and one more process is the standby for any of them.
    detector_partitions: int = Field(default=1, ge=1, le=256)

    # Carer visits (issue 14; visits/): the plans' rolling horizon and the visits' periodic jobs.
    visits_horizon_days: int = Field(default=14, ge=1, le=90, description="visits materialised ahead")
    visits_materialise_s: float = Field(default=3600.0, gt=0, le=86400, description="how often plans roll")
    visits_rules_s: float = Field(
        default=15.0, gt=0, le=60, description="how often the visit alert rules run (late/missed within 60 s)"
    )
    visits_tags_s: float = Field(default=2.0, gt=0, le=60, description="how often door-reader tags are read")
    visits_geofence_m: int = Field(
        default=150, ge=10, le=5000, description="geofence radius of a home that sets none"
    )
    visits_max_accuracy_m: float = Field(
        default=100.0, gt=0, le=5000, description="a phone fix less accurate than this is flagged"
    )
    visits_late_arrival_s: float = Field(
        default=120.0, gt=0, le=86400, description="a check-in heard this much after it happened is flagged"
    )
    visits_tag_early_minutes: int = Field(
        default=60, ge=0, le=720, description="how long before the planned start a tag still checks in"
    )
    # The visits' verification job (visits/verify_job.py): how often it looks for visits due a verdict,
    # and how long after a check-out it waits, so that the front door has had its time to open.
    visits_verify_interval_s: float = Field(
        default=30.0, gt=0, le=3600, description="how often visits due a verdict are judged"
    )
    visits_verify_settle_s: float = Field(
        default=300.0, ge=0, le=3600, description="wait after a check-out before the verdict"
    )
    # Notifications: the dispatcher `telecare notify` (README, "Notifications"; notifications/).
    notify_public_url: str = Field(
        default="http://127.0.0.1:8000", description="base of the acknowledgement links in messages"
    )
    notify_poll_s: float = Field(
        default=1.0, gt=0, le=60, description="check for due work at least this often"
    )
    notify_senders: int = Field(default=8, ge=1, le=256, description="deliveries sent at once per dispatcher")
    notify_send_timeout_s: float = Field(default=10.0, gt=0, le=120, description="one attempt's limit")
    notify_retry_base_s: float = Field(default=5.0, gt=0, le=3600, description="first retry after this")
    notify_retry_max_s: float = Field(default=300.0, gt=0, le=86400, description="retries back off to this")
    notify_max_attempts: int = Field(default=20, ge=1, le=1000)
    notify_ack_link_hours: float = Field(default=24.0, gt=0, le=720, description="how long an ack link works")
    notify_verify_minutes: int = Field(default=30, ge=1, le=1440, description="how long a code works")
    notify_email_from: str = "Telecare <alerts@telecare.invalid>"
    notify_smtp_host: str | None = Field(default=None, description="unset: email is not sent (fails)")
    notify_smtp_port: Port = 25
    notify_smtp_username: str | None = None
    notify_smtp_password: SecretStr | None = None
    notify_smtp_tls: bool = Field(default=False, description="implicit TLS (port 465)")
    notify_smtp_starttls: bool = Field(default=False, description="STARTTLS after connecting")
    notify_sms_url: str | None = Field(
        default=None, description="an apprise URL with {to} for the number, e.g. twilio://SID:TOKEN@FROM/{to}"
    )
    notify_vapid_private_key: SecretStr | None = Field(
        default=None, description="Web Push VAPID key (PEM); unset: one is made on first start and kept"
    )
    notify_vapid_subject: str = "mailto:alerts@telecare.invalid"
    notify_digest_check_s: float = Field(default=300.0, gt=0, le=86400, description="digest due check")

    # Rostering (issue 18; rostering/): solver time, visits' start windows, and where travel times come from.
    rostering_time_limit_s: float = Field(
        default=30.0, ge=0.5, le=600, description="solver time per day of a roster (the request may lower it)"
    )
    rostering_window_minutes: int = Field(
        default=30, ge=0, le=240, description="a visit may start this long either side of its planned start"
    )
    rostering_osrm_url: str | None = Field(
        default=None, description="an OSRM server for travel times (table service); unset: great-circle"
    )

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str | None) -> str | None:
        if value is not None and urlsplit(value).scheme not in {"postgres", "postgresql"}:
            raise ValueError("must start with postgresql://")
        return value

    @field_validator("mqtt_url")
    @classmethod
    def _check_mqtt_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in {"mqtt", "mqtts"} or not parts.hostname:
            raise ValueError("must look like mqtt://host:port or mqtts://host:port")
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value


def load_settings(**overrides: object) -> Settings:
    """Build Settings from the environment, raising SettingsError that names each bad setting."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            name = "TELECARE_" + "_".join(str(p) for p in err["loc"]).upper()
            problems.append(f"{name}: {err['msg']}")
        raise SettingsError("invalid settings: " + "; ".join(problems)) from exc
