"""The embedded servers: start, stop, restart with data kept, clear errors."""

from __future__ import annotations

import socket
from pathlib import Path

import asyncpg
import pytest

from kernel.embedded import EmbeddedError, EmbeddedMosquitto, EmbeddedPostgres
from kernel.embedded.mosquitto import ADMIN_USER
from kernel.embedded.process import free_port
from kernel.mqtt import AsyncMqttClient, MqttConfig, MqttRefused


async def _scalar(server: EmbeddedPostgres, sql: str) -> object:
    conn = await asyncpg.connect(server.dsn())
    try:
        return await conn.fetchval(sql)
    finally:
        await conn.close()


async def test_postgres_restart_keeps_data(work_dir: Path) -> None:
    server = EmbeddedPostgres(work_dir / "emb-pg", free_port(), preload_timescaledb=False, fast_unsafe=True)
    server.start()
    try:
        await _scalar(server, "CREATE TABLE kept AS SELECT 42 AS answer")
    finally:
        server.stop()
    assert server.running_pid() is None
    server.start()
    try:
        assert await _scalar(server, "SELECT answer FROM kept") == 42
    finally:
        server.stop()


def test_busy_port_gives_a_clear_error(work_dir: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        pg = EmbeddedPostgres(work_dir / "emb-busy", port)
        with pytest.raises(EmbeddedError, match=f"port {port} .* already in use.*TELECARE_EMBEDDED_PG_PORT"):
            pg.start()
        mqtt = EmbeddedMosquitto(work_dir / "emb-busy-mqtt", port)
        with pytest.raises(EmbeddedError, match="TELECARE_EMBEDDED_MQTT_PORT"):
            mqtt.start()


async def test_stale_pid_file_is_cleared(work_dir: Path) -> None:
    server = EmbeddedPostgres(
        work_dir / "emb-stale", free_port(), preload_timescaledb=False, fast_unsafe=True
    )
    server.start()
    server.stop()
    # A pid that is certainly not a postgres process: as after a crash and a reboot.
    (server.data_dir / "postmaster.pid").write_text("999999\n")
    server.start()
    try:
        assert await _scalar(server, "SELECT 1") == 1
    finally:
        server.stop()


def test_missing_binaries_are_named(tmp_path: Path) -> None:
    # A configured folder (TELECARE_PG_BIN_DIR) is the only one tried, even where another PostgreSQL
    # is installed; the error names what it looked for and where.
    nowhere = tmp_path / "nowhere"
    server = EmbeddedPostgres(tmp_path / "x", free_port(), bin_dir=nowhere)
    with pytest.raises(EmbeddedError, match=f"initdb, pg_ctl.* not found; looked in {nowhere}\\. "):
        server.start()
    assert not (tmp_path / "x" / "data").exists()


async def test_mosquitto_restart_keeps_accounts_and_refuses_anonymous(work_dir: Path) -> None:
    broker = EmbeddedMosquitto(work_dir / "emb-mqtt", free_port())
    broker.start()
    broker.stop()
    broker.start()
    try:
        admin = AsyncMqttClient(
            MqttConfig(
                host="127.0.0.1",
                port=broker.port,
                client_id="a1",
                username=ADMIN_USER,
                password=broker.admin_password,
            )
        )
        await admin.connect()
        await admin.disconnect()
        anonymous = AsyncMqttClient(MqttConfig(host="127.0.0.1", port=broker.port, client_id="anon"))
        with pytest.raises(MqttRefused):
            await anonymous.connect(timeout=5)
        conf = (broker.root / "mosquitto.conf").read_text()
        assert "listener" in conf and "127.0.0.1" in conf and "allow_anonymous false" in conf
        assert "persistence true" in conf and "mosquitto_dynamic_security.so" in conf
    finally:
        broker.stop()
