"""An SMTP server in a process of its own (`python -m bench.notifications.smtp_sink PORT FILE`): appends
'<arrival time> <recipient> <delivery id>' to FILE for each message, so that the receiver, not sharing a
process (and its GIL) with the benchmark, is never what limits the notifier."""

from __future__ import annotations

import sys
import threading
import time
from email.parser import BytesHeaderParser
from typing import Any, TextIO

from aiosmtpd.controller import Controller


class _Log:
    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        now = time.time()
        delivery = BytesHeaderParser().parsebytes(envelope.content).get("X-Telecare-Delivery", "-")
        with self.lock:
            for rcpt in envelope.rcpt_tos:
                self.out.write(f"{now:.6f} {rcpt} {delivery}\n")
            self.out.flush()
        return "250 OK"


def main() -> None:
    """Serve until killed."""
    port, path = int(sys.argv[1]), sys.argv[2]
    with open(path, "a", encoding="utf-8") as out:
        controller = Controller(_Log(out), hostname="127.0.0.1", port=port)
        controller.start()
        print("ready", flush=True)
        try:
            threading.Event().wait()
        finally:
            controller.stop()


if __name__ == "__main__":
    main()
