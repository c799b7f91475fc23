"""The benchmark's receivers: an SMTP server (aiosmtpd) and an HTTP receiver that note when each message
arrived (wall clock: the publisher and the receivers run on one machine)."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from email.parser import BytesHeaderParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson
from aiosmtpd.controller import Controller

from kernel.embedded.process import free_port


class TimedInbox:
    """Every message's recipients, delivery id and arrival time."""

    def __init__(self) -> None:
        self.arrivals: dict[str, list[float]] = defaultdict(list)  # address -> arrival times
        self.deliveries: dict[str, int] = defaultdict(int)  # X-Telecare-Delivery -> times received
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        now = time.time()
        headers = BytesHeaderParser().parsebytes(envelope.content)
        with self.lock:
            for rcpt in envelope.rcpt_tos:
                self.arrivals[rcpt].append(now)
            self.deliveries[str(headers.get("X-Telecare-Delivery", ""))] += 1
        return "250 OK"

    def total(self) -> int:
        """Messages received."""
        with self.lock:
            return sum(len(v) for v in self.arrivals.values())


class SmtpServer:
    """aiosmtpd on a free port, in its own thread."""

    def __init__(self) -> None:
        self.port = free_port()
        self.inbox = TimedInbox()
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()


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
