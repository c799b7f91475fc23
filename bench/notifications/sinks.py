"""The benchmark's receivers: an SMTP server (aiosmtpd, in its own process) and an HTTP receiver that note
when each message arrived (wall clock: the publisher and the receivers run on one machine)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import orjson

from kernel.embedded.process import free_port


class TimedInbox:
    """What the SMTP server process logged: each recipient's arrival times, each delivery id's count."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _lines(self) -> list[list[str]]:
        if not self.path.exists():
            return []
        return [line.split() for line in self.path.read_text().splitlines() if line.count(" ") == 2]

    @property
    def arrivals(self) -> dict[str, list[float]]:
        """address -> arrival times."""
        out: dict[str, list[float]] = defaultdict(list)
        for at, rcpt, _ in self._lines():
            out[rcpt].append(float(at))
        return out

    @property
    def deliveries(self) -> dict[str, int]:
        """X-Telecare-Delivery -> times received."""
        out: dict[str, int] = defaultdict(int)
        for _, _, delivery in self._lines():
            out[delivery] += 1
        return out

    def total(self) -> int:
        """Messages received."""
        return len(self._lines())


class SmtpServer:
    """aiosmtpd on a free port, in a process of its own (bench.notifications.smtp_sink)."""

    def __init__(self, root: Path) -> None:
        self.port = free_port()
        self.inbox = TimedInbox(root / "smtp-arrivals.log")
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> SmtpServer:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.notifications.smtp_sink", str(self.port), str(self.inbox.path)],
            stdout=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
        )
        assert self.process.stdout is not None
        assert self.process.stdout.readline().strip() == b"ready"
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()


class WebhookReceiver:
    """An HTTP server noting each POST's arrival time by the alert's home."""

    def __init__(self) -> None:
        self.port = free_port()
        self.arrivals: dict[str, list[float]] = defaultdict(list)  # home id -> arrival times
        arrivals, lock = self.arrivals, threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                now = time.time()
                body = orjson.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
                with lock:
                    arrivals[body.get("alert", {}).get("home", {}).get("id", "")].append(now)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)

    @property
    def url(self) -> str:
        """Where to post."""
        return f"http://127.0.0.1:{self.port}/hook"

    def __enter__(self) -> WebhookReceiver:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
