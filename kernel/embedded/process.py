"""Small process helpers shared by the embedded servers."""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import socket
from pathlib import Path

from kernel.embedded.errors import EmbeddedError


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """True when nothing listens on host:port (so a server of ours may bind it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A TCP port on loopback that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def require_free_port(port: int, what: str, setting: str) -> None:
    """Fail with a clear message when the port is taken, instead of letting the server hang or die."""
    if not port_is_free(port):
        raise EmbeddedError(
            f"port {port} on 127.0.0.1 is already in use, so the embedded {what} cannot start; "
            f"stop whatever listens there or choose another port with {setting}"
        )


def pid_alive(pid: int) -> bool:
    """True when a process with this pid exists."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def process_name(pid: int) -> str:
    """The command name of a live process, or '' when it is gone."""
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def service_user(preferred: str) -> str | None:
    """Servers refuse to run as root: when we are root, the unprivileged account to run them as."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(preferred)
    except KeyError as exc:
        raise EmbeddedError(
            f"running as root, but there is no '{preferred}' user to run the embedded server as; "
            f"create it (useradd --system {preferred}) or run as an ordinary user"
        ) from exc
    return preferred


def chown_tree(path: Path, user: str | None) -> None:
    """Give a folder and everything in it to user (no-op when user is None)."""
    if user is None:
        return
    for root, dirs, files in os.walk(path):
        for name in [root, *(os.path.join(root, d) for d in dirs), *(os.path.join(root, f) for f in files)]:
            shutil.chown(name, user, user)


def read_or_create_secret(path: Path) -> str:
    """A generated password kept in a 0600 file, so the next start reuses it."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(24)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return value
