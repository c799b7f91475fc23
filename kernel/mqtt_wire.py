"""paho, read and acknowledged more cheaply, and the bounded inbox between its thread and asyncio.

paho reads each packet with three recv() calls and a select(), and decodes every PUBLISH into
objects (properties, a message, topic matching under locks) that kernel.mqtt does not use; at
ingest rates that was a third of the worker's CPU. `LeanClient` reads the socket in large chunks,
decodes a PUBLISH in a few slices and writes a burst of PUBACKs as one packet. It relies on paho 2's
internals (`_sock_recv`, `_handle_publish`, `_packet_queue`), which is why paho-mqtt is pinned below 3;
QoS 2 and anything it cannot decode go through paho's own code. Per-topic callbacks
(message_callback_add) are not consulted: every message goes to the adapter.
"""

from __future__ import annotations

import asyncio
import struct
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import MQTTErrorCode

_RECV_BYTES = 1 << 14
_PUBACK = struct.Struct("!BBH")
Deliver = Callable[[str, bytes, int, int, bool], None]


@dataclass(frozen=True, slots=True)
class Incoming:
    """One received message; `ack()` it when it is safely handled (manual acknowledgement)."""

    topic: str
    payload: bytes
    qos: int
    mid: int
    retain: bool
    received_at: datetime
    _acker: Callable[[int, int], object] | None = field(default=None, repr=False, compare=False)

    def ack(self) -> None:
        """Acknowledge to the broker; the broker will not redeliver this message."""
        if self._acker is not None:
            self._acker(self.mid, self.qos)


class Inbox:
    """Messages for a manual-ack client, taken in bursts, at most `maxsize` of them not yet acknowledged.

    paho's thread puts, the event loop takes and acknowledges. Past `maxsize` held messages paho's
    thread waits for acknowledgements: it stops reading, and TCP holds the broker back. Each counter
    is written by one thread only, so neither side takes a lock while there is room.
    """

    def __init__(self, maxsize: int, loop: asyncio.AbstractEventLoop) -> None:
        self.maxsize = maxsize
        self._loop = loop
        self._items: deque[Incoming] = deque()
        self._arrived = 0  # paho's thread
        self._released = 0  # the event loop
        self._room = threading.Event()
        self._ready = asyncio.Event()
        self._wake_pending = False

    @property
    def held(self) -> int:
        """Messages received and not yet acknowledged."""
        return self._arrived - self._released

    def wait_for_room(self, closing: Callable[[], bool]) -> bool:
        """In paho's thread: wait until a message may be held; False if the client closes meanwhile."""
        while self._arrived - self._released >= self.maxsize:
            self._room.clear()
            if self._arrived - self._released < self.maxsize:
                break
            if not self._room.wait(0.25) and closing():
                return False
        return True

    def put(self, item: Incoming) -> None:
        """In paho's thread: hand a message over (after wait_for_room)."""
        self._arrived += 1
        self._items.append(item)
        # Appended before the flag is read, and _wake clears the flag before take() looks again, so
        # either a wake-up is already pending that will see this message, or this one schedules it.
        if not self._wake_pending:
            self._wake_pending = True
            self._loop.call_soon_threadsafe(self._wake)

    def _wake(self) -> None:
        self._wake_pending = False
        self._ready.set()

    async def take(self, limit: int) -> list[Incoming]:
        """Wait for messages; return those that have arrived, oldest first, at most `limit`."""
        items = self._items
        while not items:
            self._ready.clear()
            await self._ready.wait()
        pop = items.popleft
        return [pop() for _ in range(min(len(items), limit))]

    def release(self, count: int) -> None:
        """Make room for `count` more messages (they were acknowledged; each message is released once)."""
        self._released += count
        self._room.set()


class LeanClient(paho.Client):
    """paho, reading and acknowledging more cheaply (see the module's docstring)."""

    def __init__(self, *args: Any, deliver: Deliver, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deliver_publish = deliver
        self._rbuf = b""
        self._rpos = 0

    def _sock_recv(self, bufsize: int) -> bytes:
        pos = self._rpos
        if pos >= len(self._rbuf):
            data: bytes = super()._sock_recv(_RECV_BYTES)
            if len(data) <= bufsize:
                return data
            self._rbuf, pos = data, 0
        self._rpos = pos + bufsize
        return self._rbuf[pos : pos + bufsize]

    def _sock_close(self) -> None:
        self._rbuf, self._rpos = b"", 0
        super()._sock_close()

    def loop_read(self, max_packets: int = 1) -> MQTTErrorCode:
        """Read every packet already received (paho reads one per select())."""
        rc: MQTTErrorCode = super().loop_read(max_packets)
        while rc == paho.MQTT_ERR_SUCCESS and self._rpos < len(self._rbuf) and self._sock is not None:
            rc = super().loop_read(max_packets)
        return rc

    def _handle_publish(self) -> MQTTErrorCode:
        header = self._in_packet["command"]
        qos = (header & 0x06) >> 1
        if qos > 1 or self._protocol != paho.MQTTv5:
            return super()._handle_publish()
        packet = self._in_packet["packet"]
        try:
            at = 2 + ((packet[0] << 8) | packet[1])
            topic = packet[2:at].decode("utf-8")
            mid = 0
            if qos:
                mid = (packet[at] << 8) | packet[at + 1]
                at += 2
            # The properties' length (a variable byte integer); none of the properties is used here.
            size, shift = 0, 0
            while True:
                byte = packet[at]
                at += 1
                size |= (byte & 0x7F) << shift
                shift += 7
                if byte < 0x80 or shift > 21:
                    break
            payload = bytes(packet[at + size :])
        except (IndexError, UnicodeDecodeError):
            return super()._handle_publish()
        self._deliver_publish(topic, payload, qos, mid, bool(header & 0x01))
        if qos == 1 and not self._manual_ack:
            return self._send_puback(mid)
        return paho.MQTT_ERR_SUCCESS

    def ack_many(self, mids: Sequence[int]) -> None:
        """Acknowledge QoS 1 messages with one write (and one wake-up of paho's thread) for all of them."""
        if mids:
            self._packet_queue(paho.PUBACK, b"".join([_PUBACK.pack(0x40, 2, mid) for mid in mids]), 0, 0)
