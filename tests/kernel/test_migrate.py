"""The migration runner and the storage each path builds."""

from __future__ import annotations

import shutil
from pathlib import Path

import asyncpg
import pytest

from kernel.migrate import MigrationError, discover, migrate, pending
from kernel.settings import StorageMode
from kernel.storage import apply_retention, detect_storage

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


async def test_applies_everything_then_a_second_run_does_nothing(empty_db_url: str) -> None:
    conn = await asyncpg.connect(empty_db_url)
    try:
        first = await migrate(conn)
        assert first.applied == tuple(m.filename for m in discover(StorageMode.POSTGRES))
        assert first.storage.mode is StorageMode.POSTGRES
        second = await migrate(conn)
        assert second.applied == ()
        assert await pending(conn) == []
        count = await conn.fetchval("SELECT count(*) FROM schema_migrations")
        assert count == len(first.applied)
    finally:
        await conn.close()


async def test_an_edited_applied_file_is_refused(empty_db_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, folder)
    conn = await asyncpg.connect(empty_db_url)
    try:
        await migrate(conn, folder=folder)
        edited = folder / "0003_dead_letters.sql"
        edited.write_text(edited.read_text() + "\n-- a quiet edit\n")
        with pytest.raises(MigrationError, match=r"0003_dead_letters\.sql was changed"):
            await migrate(conn, folder=folder)
    finally:
        await conn.close()


async def test_a_failing_migration_leaves_nothing_half_applied(empty_db_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, folder)
    (folder / "0999_broken.sql").write_text("CREATE TABLE half_done (id int);\nSELECT no_such_function();\n")
    conn = await asyncpg.connect(empty_db_url)
    try:
        with pytest.raises(asyncpg.UndefinedFunctionError):
            await migrate(conn, folder=folder)
        assert await conn.fetchval("SELECT to_regclass('half_done')") is None
        assert await pending(conn, folder=folder) == ["0999_broken.sql"]
    finally:
        await conn.close()


def test_badly_named_files_are_refused(tmp_path: Path) -> None:
    (tmp_path / "1_x.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match="NNNN_name"):
        discover(StorageMode.POSTGRES, tmp_path)


async def test_timescaledb_cannot_be_forced_where_it_is_not_loaded(empty_db_url: str) -> None:
    conn = await asyncpg.connect(empty_db_url)
    try:
        with pytest.raises(MigrationError, match="TELECARE_STORAGE=timescaledb"):
            await migrate(conn, storage=StorageMode.TIMESCALEDB)
    finally:
        await conn.close()


async def test_plain_postgresql_partitions_readings_by_day(db: asyncpg.Connection) -> None:
    strategy = await db.fetchval(
        "SELECT partstrat::text FROM pg_partitioned_table WHERE partrelid = 'readings'::regclass"
    )
    assert strategy == "r"
    key = await db.fetchval("SELECT pg_get_partkeydef('readings'::regclass)")
    assert key == 'RANGE ("time")'
    info = await detect_storage(db)
    assert info.mode is StorageMode.POSTGRES and info.describe().startswith("postgresql 15")


async def test_timescaledb_path_builds_hypertable_policies_and_aggregate(ts_db_url: str) -> None:
    conn = await asyncpg.connect(ts_db_url)
    try:
        info = await detect_storage(conn)
        assert info.mode is StorageMode.TIMESCALEDB and info.describe().startswith("timescaledb 2.")
        await apply_retention(conn, info=info, retention_days=90)
        dims = await conn.fetchrow(
            "SELECT column_name, time_interval FROM timescaledb_information.dimensions "
            "WHERE hypertable_name = 'readings'"
        )
        assert dims is not None and dims["column_name"] == "time" and dims["time_interval"].days == 1
        jobs = {
            r["proc_name"]: r["config"]
            for r in await conn.fetch(
                "SELECT proc_name, config::text AS config FROM timescaledb_information.jobs "
                "WHERE proc_name LIKE 'policy%'"
            )
        }
        assert "policy_compression" in jobs and "7 days" in jobs["policy_compression"]
        assert "policy_retention" in jobs and "90 days" in jobs["policy_retention"]
        assert "policy_refresh_continuous_aggregate" in jobs
        cagg = await conn.fetchval(
            "SELECT count(*) FROM timescaledb_information.continuous_aggregates "
            "WHERE view_name = 'readings_hourly'"
        )
        assert cagg == 1
    finally:
        await conn.close()
