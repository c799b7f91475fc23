"""Which time-series storage a database has, and the policies that follow from settings."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from kernel.settings import StorageMode


@dataclass(frozen=True, slots=True)
class StorageInfo:
    """What the server offers and which storage mode this database uses."""

    server_version: str
    timescaledb_loadable: bool
    timescaledb_version: str | None
    mode: StorageMode

    def describe(self) -> str:
        """'timescaledb 2.28.1' or 'postgresql 15.20', as /ready reports it."""
        if self.mode is StorageMode.TIMESCALEDB and self.timescaledb_version:
            return f"timescaledb {self.timescaledb_version}"
        return f"postgresql {self.server_version}"


async def detect_storage(conn: asyncpg.Connection, *, mode: StorageMode | None = None) -> StorageInfo:
    """Look at the server: is timescaledb available and preloaded, and which mode was recorded."""
    row = await conn.fetchrow(
        """
        SELECT current_setting('server_version') AS server_version,
               current_setting('shared_preload_libraries') AS preload,
               (SELECT default_version FROM pg_available_extensions WHERE name = 'timescaledb') AS available,
               (SELECT extversion FROM pg_extension WHERE extname = 'timescaledb') AS installed,
               to_regclass('storage_mode') IS NOT NULL AS has_mode
        """
    )
    assert row is not None
    loadable = row["available"] is not None and "timescaledb" in row["preload"]
    if mode is None:
        recorded = await conn.fetchval("SELECT mode FROM storage_mode") if row["has_mode"] else None
        mode = StorageMode(recorded) if recorded else StorageMode.POSTGRES
    return StorageInfo(
        server_version=str(row["server_version"]).split()[0],
        timescaledb_loadable=loadable,
        timescaledb_version=row["installed"],
        mode=mode,
    )


async def apply_retention(conn: asyncpg.Connection, *, info: StorageInfo, retention_days: int) -> None:
    """On TimescaleDB, (re)set the retention policy from settings; plain PostgreSQL uses maintenance."""
    if info.mode is not StorageMode.TIMESCALEDB:
        return
    async with conn.transaction():
        await conn.execute("SELECT remove_retention_policy('readings', if_exists => true)")
        await conn.execute(
            "SELECT add_retention_policy('readings', make_interval(days => $1))", retention_days
        )
