"""Shared fixtures: a real PostgreSQL and a real Mosquitto, started once per test session on free ports.

Isolation: every test gets its own database (cloned from a migrated template, which is fast) and its
own MQTT topic root. Async tests fail if they leave a task running.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import asyncpg
import hypothesis
import pytest

from accounts.passwords import hash_password
from accounts.tenancy import Role
from accounts.tokens import digest, issue_access, new_secret
from kernel.db import create_pool
from kernel.embedded import EmbeddedMosquitto, EmbeddedPostgres
from kernel.embedded.mosquitto import ADMIN_USER
from kernel.embedded.postgres import find_pg_bin, timescaledb_installed
from kernel.embedded.process import free_port
from kernel.migrate import migrate
from kernel.mqtt import MqttConfig
from kernel.settings import Settings, StorageMode
from tests.support import rig  # noqa: F401 - a fixture shared by several test packages

# No per-example deadline: the suite runs on shared 2-core machines, where a busy moment made a property
# test of the payload checks "too slow" (hypothesis' 200 ms); speed is the benchmarks' to measure.
hypothesis.settings.register_profile("shared-machine", deadline=None)
hypothesis.settings.load_profile("shared-machine")

TEMPLATE = "telecare_template"
JWT_SECRET = "test-jwt-secret-of-at-least-32-characters"
# Every test database starts with this platform admin (made in the template), and ADMIN_TOKEN is an
# access token for it, signed with the test settings' JWT secret.
ADMIN_ID = uuid.UUID("00000000-0000-4000-8000-00000000a001")
ADMIN_EMAIL = "admin@test.example"
ADMIN_PASSWORD = "test-admin-password"
# The admin's login in the template (a refresh-token family): access tokens name the login they belong to.
ADMIN_SESSION = uuid.UUID("00000000-0000-4000-8000-00000000a5e5")
ADMIN_TOKEN = issue_access(
    JWT_SECRET,
    user_id=ADMIN_ID,
    role=Role.PLATFORM_ADMIN,
    organisation_id=None,
    name="Test admin",
    session_id=ADMIN_SESSION,
    lifetime=timedelta(days=7),
)


@pytest.fixture(scope="session")
def work_dir() -> Iterator[Path]:
    """A temporary folder the server accounts (postgres, mosquitto) can reach when we are root."""
    path = Path(tempfile.mkdtemp(prefix="telecare-test-"))
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _start_cluster(root: Path, *, timescaledb: bool) -> EmbeddedPostgres:
    server = EmbeddedPostgres(root, free_port(), preload_timescaledb=timescaledb, fast_unsafe=True)
    server.start()
    return server


async def _make_template(server: EmbeddedPostgres, storage: StorageMode) -> None:
    admin = await asyncpg.connect(server.dsn("postgres"))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE}"')
        await admin.execute(f'CREATE DATABASE "{TEMPLATE}"')
    finally:
        await admin.close()
    conn = await asyncpg.connect(server.dsn(TEMPLATE))
    try:
        await migrate(conn, storage=storage)
        await conn.execute(
            """
            INSERT INTO users (id, email, name, role, password_hash)
            VALUES ($1, $2, $3, 'platform_admin', $4)
            """,
            ADMIN_ID,
            ADMIN_EMAIL,
            "Test admin",
            hash_password(ADMIN_PASSWORD),
        )
        await conn.execute(
            """
            INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at)
            VALUES ($1, $2, $3, now() + interval '30 days')
            """,
            ADMIN_ID,
            ADMIN_SESSION,
            digest(new_secret("tcr_")),
        )
    finally:
        await conn.close()
    admin = await asyncpg.connect(server.dsn("postgres"))
    try:
        # TimescaleDB's job scheduler connects to every database with the extension; a template
        # must have no sessions, so close it to connections and end the ones it has.
        await admin.execute(f'ALTER DATABASE "{TEMPLATE}" WITH ALLOW_CONNECTIONS false')
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", TEMPLATE
        )
    finally:
        await admin.close()


@pytest.fixture(scope="session")
def pg_server(work_dir: Path) -> Iterator[EmbeddedPostgres]:
    """Plain PostgreSQL (timescaledb not preloaded), with a migrated template database."""
    server = _start_cluster(work_dir / "pg", timescaledb=False)
    try:
        asyncio.run(_make_template(server, StorageMode.POSTGRES))
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def ts_server(work_dir: Path) -> Iterator[EmbeddedPostgres]:
    """PostgreSQL with TimescaleDB preloaded; skipped where the server has no timescaledb."""
    bins = find_pg_bin()
    if not timescaledb_installed(bins):
        pytest.skip(
            f"the PostgreSQL in {bins} has no timescaledb extension, so the TimescaleDB storage path is "
            "not tested: `make test` builds it from ../shared/vendor/timescaledb-2.28.3.tar.gz when that "
            "source is there (deploy/timescaledb/install-from-source.sh), or install the "
            "timescaledb-2-postgresql-15 package"
        )
    server = _start_cluster(work_dir / "pg-ts", timescaledb=True)
    try:
        asyncio.run(_make_template(server, StorageMode.TIMESCALEDB))
        yield server
    finally:
        server.stop()


async def _clone(server: EmbeddedPostgres) -> str:
    name = f"t_{uuid.uuid4().hex[:16]}"
    admin = await asyncpg.connect(server.dsn("postgres"))
    try:
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE}"')
    finally:
        await admin.close()
    return name


async def _drop(server: EmbeddedPostgres, name: str) -> None:
    admin = await asyncpg.connect(server.dsn("postgres"))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
async def db_url(pg_server: EmbeddedPostgres) -> AsyncIterator[str]:
    """A fresh, migrated database (plain PostgreSQL path) for this test alone."""
    name = await _clone(pg_server)
    yield pg_server.dsn(name)
    await _drop(pg_server, name)


@pytest.fixture
async def ts_db_url(ts_server: EmbeddedPostgres) -> AsyncIterator[str]:
    """A fresh, migrated database on the TimescaleDB path for this test alone."""
    name = await _clone(ts_server)
    yield ts_server.dsn(name)
    await _drop(ts_server, name)


@pytest.fixture
async def empty_db_url(pg_server: EmbeddedPostgres) -> AsyncIterator[str]:
    """A fresh database with no migrations applied."""
    name = f"e_{uuid.uuid4().hex[:16]}"
    admin = await asyncpg.connect(pg_server.dsn("postgres"))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    yield pg_server.dsn(name)
    await _drop(pg_server, name)


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection to this test's database."""
    conn = await asyncpg.connect(db_url)
    yield conn
    await conn.close()


@pytest.fixture
async def pool(db_url: str) -> AsyncIterator[asyncpg.Pool]:
    """A small pool on this test's database (JSON codecs as the services use)."""
    pool = await create_pool(db_url, min_size=1, max_size=4)
    yield pool
    await pool.close()


@pytest.fixture(scope="session")
def broker(work_dir: Path) -> Iterator[EmbeddedMosquitto]:
    """A real Mosquitto with dynamic security, for the whole session."""
    server = EmbeddedMosquitto(work_dir / "mqtt", free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def topic_root() -> str:
    """This test's own MQTT topic root, so tests never see each other's messages."""
    return f"test-{uuid.uuid4().hex[:12]}/telecare"


@pytest.fixture
def admin_mqtt(broker: EmbeddedMosquitto) -> MqttConfig:
    """How the backend connects to the test broker."""
    return MqttConfig(
        host="127.0.0.1",
        port=broker.port,
        client_id=f"admin-{uuid.uuid4().hex[:8]}",
        username=ADMIN_USER,
        password=broker.admin_password,
    )


@pytest.fixture
def settings(db_url: str, broker: EmbeddedMosquitto, topic_root: str, tmp_path: Path) -> Settings:
    """Settings pointing at this test's database, the test broker and this test's topic root."""
    return Settings(
        _env_file=None,
        database_url=db_url,
        mqtt_url=broker.url,
        mqtt_username=ADMIN_USER,
        mqtt_password=broker.admin_password,
        mqtt_topic_root=topic_root,
        mqtt_client_id=f"ingest-{uuid.uuid4().hex[:8]}",
        data_dir=tmp_path / "var",
        ingest_batch_ms=20,
        jwt_secret=JWT_SECRET,
        health_check_s=0.2,
    )


@pytest.fixture(autouse=True)
async def _no_task_left_behind() -> AsyncIterator[None]:
    """Fail any async test that leaves an asyncio task running."""
    before = set(asyncio.all_tasks())
    yield
    await asyncio.sleep(0)
    left = [t for t in asyncio.all_tasks() - before if t is not asyncio.current_task() and not t.done()]
    for task in left:
        task.cancel()
    assert not left, f"test left tasks running: {[t.get_name() for t in left]}"
