"""Servers of a run's own: embedded PostgreSQL and Mosquitto on free ports, for a replay or an evaluation
that must not touch (or be judged by) a deployment's database, broker and detector."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from kernel.embedded.mosquitto import ADMIN_USER, EmbeddedMosquitto
from kernel.embedded.postgres import EmbeddedPostgres
from kernel.embedded.process import free_port
from kernel.settings import Settings


@dataclass(slots=True, frozen=True)
class ScratchServers:
    """A database and a broker started for one run."""

    postgres: EmbeddedPostgres
    broker: EmbeddedMosquitto

    def settings(self, base: Settings | None = None) -> Settings:
        """Settings pointing at them (over `base`), with a topic root of this run's own."""
        return (base or Settings(_env_file=None)).model_copy(
            update={
                "database_url": self.postgres.dsn(),
                "mqtt_url": self.broker.url,
                "mqtt_username": ADMIN_USER,
                "mqtt_password": SecretStr(self.broker.admin_password),
                "mqtt_topic_root": f"replay-{uuid.uuid4().hex[:8]}/telecare",
            }
        )


@contextlib.contextmanager
def scratch_servers(root: Path | None = None, *, pg_bin_dir: Path | None = None) -> Iterator[ScratchServers]:
    """Start both under `root` (kept afterwards), or under a temporary folder (removed afterwards)."""
    folder = root or Path(tempfile.mkdtemp(prefix="telecare-scratch-"))
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o755)  # the servers' own accounts must reach it when we are root
    postgres = EmbeddedPostgres(folder / "pg", free_port(), bin_dir=pg_bin_dir, fast_unsafe=root is None)
    broker = EmbeddedMosquitto(folder / "mqtt", free_port())
    try:
        postgres.start()
        broker.start()
        yield ScratchServers(postgres, broker)
    finally:
        broker.stop()
        postgres.stop()
        if root is None:
            shutil.rmtree(folder, ignore_errors=True)
