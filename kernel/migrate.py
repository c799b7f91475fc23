"""The migration runner: ordered SQL files, each applied once in its own transaction, never edited.

Files are `NNNN_name.sql`, or a pair `NNNN_name.postgres.sql` / `NNNN_name.timescaledb.sql` where
the two storage paths differ; the runner picks the variant for the database's storage mode.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import asyncpg

from kernel.settings import StorageMode
from kernel.storage import StorageInfo, detect_storage

log = logging.getLogger(__name__)

_NAME = re.compile(r"^(?P<version>\d{4})_(?P<name>[a-z0-9_]+?)(?:\.(?P<variant>postgres|timescaledb))?\.sql$")
# Any constant works; it only has to be the same for every process that migrates this database.
_LOCK_KEY = 0x7E1EC4
_BOOKKEEPING = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer PRIMARY KEY,
    filename   text NOT NULL,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS storage_mode (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    mode     text NOT NULL CHECK (mode IN ('postgres', 'timescaledb')),
    chosen_at timestamptz NOT NULL DEFAULT now()
);
"""


class MigrationError(Exception):
    """Migrations cannot be applied safely; the message says which file and why."""


@dataclass(frozen=True, slots=True)
class Migration:
    """One SQL file to apply."""

    version: int
    filename: str
    sql: str

    @property
    def checksum(self) -> str:
        """SHA-256 of the file's text."""
        return hashlib.sha256(self.sql.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class MigrationReport:
    """What a run did."""

    applied: tuple[str, ...]
    storage: StorageInfo


def discover(mode: StorageMode, folder: Path | None = None) -> list[Migration]:
    """The migrations for a storage mode, in order; a version may not appear twice."""
    root = folder if folder is not None else Path(str(resources.files("migrations")))
    chosen: dict[int, Migration] = {}
    for path in sorted(root.glob("*.sql")):
        match = _NAME.match(path.name)
        if match is None:
            raise MigrationError(f"{path.name}: migration files are named NNNN_name[.variant].sql")
        variant = match["variant"]
        if variant is not None and variant != mode.value:
            continue
        version = int(match["version"])
        if version in chosen:
            raise MigrationError(
                f"{path.name}: version {version:04d} already used by {chosen[version].filename}"
            )
        chosen[version] = Migration(version, path.name, path.read_text())
    return [chosen[v] for v in sorted(chosen)]


async def migrate(
    conn: asyncpg.Connection, *, storage: StorageMode = StorageMode.AUTO, folder: Path | None = None
) -> MigrationReport:
    """Apply every pending migration; refuse if an applied file was edited. A second run does nothing."""
    await conn.execute("SELECT pg_advisory_lock($1)", _LOCK_KEY)
    try:
        await conn.execute(_BOOKKEEPING)
        info = await _choose_mode(conn, storage)
        migrations = discover(info.mode, folder)
        applied = await _applied(conn)
        _check_unchanged(migrations, applied)
        done: list[str] = []
        for migration in migrations:
            if migration.version in applied:
                continue
            async with conn.transaction():
                await conn.execute(migration.sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, filename, checksum) VALUES ($1, $2, $3)",
                    migration.version,
                    migration.filename,
                    migration.checksum,
                )
            log.info("applied migration %s", migration.filename)
            done.append(migration.filename)
        return MigrationReport(tuple(done), info)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)


async def pending(conn: asyncpg.Connection, *, folder: Path | None = None) -> list[str]:
    """Files not yet applied (empty when the schema is current)."""
    row = await conn.fetchrow("SELECT to_regclass('storage_mode') AS t")
    if row is None or row["t"] is None:
        return [m.filename for m in discover(StorageMode.POSTGRES, folder)]
    mode = StorageMode(await conn.fetchval("SELECT mode FROM storage_mode"))
    applied = await _applied(conn)
    return [m.filename for m in discover(mode, folder) if m.version not in applied]


async def _applied(conn: asyncpg.Connection) -> dict[int, tuple[str, str]]:
    rows = await conn.fetch("SELECT version, filename, checksum FROM schema_migrations")
    return {r["version"]: (r["filename"], r["checksum"]) for r in rows}


def _check_unchanged(migrations: list[Migration], applied: dict[int, tuple[str, str]]) -> None:
    for migration in migrations:
        if migration.version not in applied:
            continue
        filename, checksum = applied[migration.version]
        if filename != migration.filename or checksum != migration.checksum:
            raise MigrationError(
                f"migration {filename} was changed after it was applied (checksum differs); applied "
                "migrations are never edited: restore the file and put the change in a new migration"
            )


async def _choose_mode(conn: asyncpg.Connection, wanted: StorageMode) -> StorageInfo:
    info = await detect_storage(conn)
    recorded = await conn.fetchval("SELECT mode FROM storage_mode")
    if recorded is not None:
        mode = StorageMode(recorded)
        if wanted is not StorageMode.AUTO and wanted is not mode:
            raise MigrationError(
                f"TELECARE_STORAGE={wanted.value}, but this database was built for {mode.value}; "
                "storage cannot be switched in place"
            )
    elif wanted is StorageMode.AUTO:
        mode = StorageMode.TIMESCALEDB if info.timescaledb_loadable else StorageMode.POSTGRES
    else:
        mode = wanted
    if mode is StorageMode.TIMESCALEDB:
        if not info.timescaledb_loadable:
            raise MigrationError(
                "TELECARE_STORAGE=timescaledb, but the server cannot load the timescaledb extension "
                "(install it and add it to shared_preload_libraries)"
            )
        await conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
    if recorded is None:
        await conn.execute("INSERT INTO storage_mode (mode) VALUES ($1)", mode.value)
    return await detect_storage(conn, mode=mode)
