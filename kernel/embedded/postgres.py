"""A private PostgreSQL cluster, created with initdb and run with pg_ctl."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from kernel.embedded.errors import EmbeddedError
from kernel.embedded.process import (
    chown_tree,
    pid_alive,
    process_name,
    read_or_create_secret,
    require_free_port,
    service_user,
)

log = logging.getLogger(__name__)

SUPERUSER = "telecare"
DATABASE = "telecare"
_SEARCH = [Path(f"/usr/lib/postgresql/{v}/bin") for v in (17, 16, 15)]


def find_pg_bin(explicit: Path | None = None) -> Path:
    """The folder holding initdb and pg_ctl, or an error naming what is missing."""
    # A folder given explicitly (TELECARE_PG_BIN_DIR) is the only one tried: quietly running another
    # PostgreSQL than the one configured would hide the mistake.
    candidates: list[Path] = [explicit] if explicit else []
    if not explicit:
        on_path = shutil.which("pg_ctl")
        if on_path:
            candidates.append(Path(on_path).resolve().parent)
        candidates.extend(_SEARCH)
    for folder in candidates:
        if folder and (folder / "initdb").exists() and (folder / "pg_ctl").exists():
            return folder
    looked = ", ".join(str(c) for c in candidates if c)
    raise EmbeddedError(
        "PostgreSQL server binaries (initdb, pg_ctl) not found; looked in "
        f"{looked}. Install postgresql-15 or set TELECARE_PG_BIN_DIR, or set TELECARE_DATABASE_URL "
        "to use an existing server"
    )


def timescaledb_installed(bin_dir: Path) -> bool:
    """True when the server next to these binaries has the timescaledb library (and its extension files)."""
    pg_config = bin_dir / "pg_config"
    if not pg_config.exists():
        return (bin_dir.parent / "lib" / "timescaledb.so").exists()
    # Where this server loads libraries and extension scripts from, as it was built.
    found = subprocess.run(
        [str(pg_config), "--pkglibdir", "--sharedir"], capture_output=True, text=True, check=False
    ).stdout.split()
    if len(found) != 2:
        return False
    lib_dir, share_dir = Path(found[0]), Path(found[1])
    control = share_dir / "extension" / "timescaledb.control"
    return (lib_dir / "timescaledb.so").exists() and control.exists()


@dataclass
class EmbeddedPostgres:
    """A cluster in `root` listening on 127.0.0.1:port; start() is idempotent over restarts."""

    root: Path
    port: int
    bin_dir: Path | None = None
    preload_timescaledb: bool | None = None
    fast_unsafe: bool = False
    _user: str | None = field(init=False, default=None)
    _started: bool = field(init=False, default=False)

    @property
    def data_dir(self) -> Path:
        """The cluster's PGDATA."""
        return self.root / "data"

    @property
    def password(self) -> str:
        """The superuser password, generated at first start."""
        return read_or_create_secret(self.root / "password")

    def dsn(self, database: str = DATABASE) -> str:
        """A connection URL for a database in this cluster."""
        return f"postgresql://{SUPERUSER}:{self.password}@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        """Create the cluster if needed, then start it and make sure the telecare database exists."""
        bins = find_pg_bin(self.bin_dir)
        self._user = service_user("postgres")
        self.root.mkdir(parents=True, exist_ok=True)
        os.chmod(self.root, 0o755)
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb(bins)
        self._clear_stale_pid()
        require_free_port(self.port, "PostgreSQL", "TELECARE_EMBEDDED_PG_PORT")
        preload = self.preload_timescaledb
        if preload is None:
            preload = timescaledb_installed(bins)
        options = [
            f"-c port={self.port}",
            "-c listen_addresses=127.0.0.1",
            "-c unix_socket_directories=''",
            f"-c shared_preload_libraries={'timescaledb' if preload else ''}",
        ]
        if preload:
            options.append("-c timescaledb.telemetry_level=off")
        if self.fast_unsafe:
            # Test clusters only: durability off buys speed, and the data is thrown away anyway.
            options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        log_file = self.root / "postgres.log"
        log_file.touch()
        if self._user:
            shutil.chown(log_file, self._user, self._user)
        self._run(
            bins / "pg_ctl",
            "start",
            "-w",
            "-t",
            "60",
            "-D",
            str(self.data_dir),
            "-l",
            str(log_file),
            "-o",
            " ".join(options),
            failure=f"PostgreSQL did not start; see {log_file}",
        )
        self._started = True
        self._ensure_database()
        log.info("embedded PostgreSQL on 127.0.0.1:%s (data in %s)", self.port, self.data_dir)

    def stop(self) -> None:
        """Stop the cluster quickly and cleanly; safe to call when it is not running."""
        if not (self.data_dir / "postmaster.pid").exists():
            return
        bins = find_pg_bin(self.bin_dir)
        self._run(
            bins / "pg_ctl",
            "stop",
            "-w",
            "-t",
            "60",
            "-m",
            "fast",
            "-D",
            str(self.data_dir),
            failure="PostgreSQL did not stop",
        )
        self._started = False

    def running_pid(self) -> int | None:
        """The postmaster's pid when the cluster is running, else None."""
        pid_file = self.data_dir / "postmaster.pid"
        if not pid_file.exists():
            return None
        try:
            pid = int(pid_file.read_text().splitlines()[0])
        except (ValueError, IndexError, OSError):
            return None
        return pid if pid_alive(pid) and process_name(pid) in {"postgres", "postmaster"} else None

    def _clear_stale_pid(self) -> None:
        pid_file = self.data_dir / "postmaster.pid"
        if not pid_file.exists():
            return
        pid = self.running_pid()
        if pid is not None:
            raise EmbeddedError(
                f"an embedded PostgreSQL is already running from {self.data_dir} (pid {pid}); "
                "stop the other telecare process first"
            )
        log.warning("removing stale %s left by a PostgreSQL that did not stop cleanly", pid_file)
        pid_file.unlink()

    def _initdb(self, bins: Path) -> None:
        pwfile = self.root / "initdb.pw"
        pwfile.write_text(self.password + "\n")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        chown_tree(self.data_dir, self._user)
        if self._user:
            shutil.chown(pwfile, self._user, self._user)
        try:
            self._run(
                bins / "initdb",
                "-D",
                str(self.data_dir),
                "-U",
                SUPERUSER,
                "--pwfile",
                str(pwfile),
                "--auth-local=scram-sha-256",
                "--auth-host=scram-sha-256",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                failure="initdb failed",
            )
        finally:
            pwfile.unlink(missing_ok=True)
        log.info("created PostgreSQL cluster in %s", self.data_dir)

    def _ensure_database(self) -> None:
        with psycopg.connect(self.dsn("postgres"), autocommit=True) as conn:
            found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)).fetchone()
            if not found:
                conn.execute(f'CREATE DATABASE "{DATABASE}"')

    def _run(self, *argv: object, failure: str) -> None:
        result = subprocess.run(
            [str(a) for a in argv],
            user=self._user,
            capture_output=True,
            text=True,
            check=False,
            stdin=subprocess.DEVNULL,
            cwd="/",
        )
        if result.returncode != 0:
            detail = (result.stderr or result.stdout).strip().splitlines()[-3:]
            raise EmbeddedError(f"{failure}: {' '.join(detail)}")
