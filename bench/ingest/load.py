"""Load for the ingest benchmark: a lean paho publisher and a counting subscriber, each its own process.

The publisher drives paho's network loop itself in one thread (no loop thread, no asyncio task per
message), keeps its own window of unacknowledged QoS 1 messages, counts PUBACKs and republishes
whatever was not acknowledged when a connection drops, so it never loses a message of its own.
Payloads follow the device contract; `ts` is the publish time, so event-to-commit lag is
publish-to-commit latency. All times are wall-clock (time.time()), comparable with the database's.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import select
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from typing import Any
from uuid import UUID

import orjson
import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from devices.contract import MessageKind, message_topic

# What each kind of benchmark device says (all valid under the contract).
FIELDS: dict[MessageKind, tuple[dict[str, object], dict[str, object]]] = {
    MessageKind.MOTION: ({"detected": True}, {"detected": False}),
    MessageKind.CONTACT: ({"open": True}, {"open": False}),
    MessageKind.TEMPERATURE: ({"celsius": 21.5}, {"celsius": 21.0}),
    MessageKind.POWER: ({"watts": 120.0, "appliance": "kettle"}, {"watts": 0.0}),
    MessageKind.ALARM: ({"button": "pendant"}, {"button": "pendant"}),
}
_TICK_S = 0.005


@dataclass(frozen=True, slots=True)
class Broker:
    """Where the load goes and as whom."""

    host: str
    port: int
    username: str
    password: str


@dataclass(frozen=True, slots=True)
class Plan:
    """What one publisher sends: round-robin over devices, `total` messages or for `duration_s`."""

    topic_root: str
    devices: tuple[tuple[str, str, MessageKind], ...]  # (home_id, device_id, kind)
    first_seq: int
    total: int | None = None
    duration_s: float | None = None
    rate_per_s: float | None = None  # None: as fast as the window allows
    window: int = 2000
    ack_timeout_s: float = 60.0


@dataclass(frozen=True, slots=True)
class Report:
    """What a publisher did: counts, and wall-clock times of its first and last publish and last ack."""

    sent: int
    acked: int
    refused: int
    retries: int
    reconnects: int
    first_publish: float
    last_publish: float
    last_ack: float
    error: str | None = None

    @property
    def offered_per_s(self) -> float:
        """Messages handed to the broker per second."""
        return self.sent / max(self.last_publish - self.first_publish, 1e-9)


def seqs_used(plan: Plan, sent: int) -> int:
    """The next first_seq after a plan that sent `sent` messages (seq keeps increasing per device)."""
    return plan.first_seq + sent // len(plan.devices) + 1


class _BufferedClient(paho.Client):
    """paho with its socket I/O batched: one send() per burst of publishes, one recv() per many acks.

    paho writes every packet with its own send() and reads every packet with three recv() calls;
    at tens of thousands of messages a second those system calls are most of the publisher's time.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._wbuf = bytearray()
        self._rbuf = bytearray()

    def _sock_send(self, buf: bytes | bytearray) -> int:
        self._wbuf += buf
        return len(buf)

    def _sock_recv(self, bufsize: int) -> bytes:
        if not self._rbuf:
            if self._sock is None:
                raise ConnectionError("not connected")
            data = self._sock.recv(1 << 16)  # BlockingIOError when nothing came: paho expects that
            if not data:
                return b""
            self._rbuf += data
        chunk = bytes(self._rbuf[:bufsize])
        del self._rbuf[:bufsize]
        return chunk

    def reset_buffers(self) -> None:
        """Forget what belonged to a lost connection."""
        self._wbuf.clear()
        self._rbuf.clear()

    def flush(self) -> bool:
        """Read what is buffered, then write everything written so far; False if the connection is gone."""
        while self._rbuf:
            if self.loop_read() != paho.MQTT_ERR_SUCCESS:
                return False
        while self._wbuf:
            if self._sock is None:
                return False
            try:
                sent = self._sock.send(self._wbuf)
            except BlockingIOError:
                select.select([], [self._sock], [], 1.0)
                continue
            except OSError:
                return False
            del self._wbuf[:sent]
        return True


def _connect(broker: Broker, client: paho.Client, *, receive_maximum: int | None = None) -> None:
    client.username_pw_set(broker.username, broker.password)
    # paho's own in-flight limit off (0): with one set, every PUBACK makes paho scan all its
    # unacknowledged messages for queued ones. The publisher keeps its own window instead.
    client.max_inflight_messages_set(0)
    client.max_queued_messages_set(0)
    props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    if receive_maximum:
        props.ReceiveMaximum = receive_maximum
    client.connect(broker.host, broker.port, keepalive=60, clean_start=True, properties=props)
    _await_connack(client)


def _await_connack(client: paho.Client) -> None:
    deadline = time.monotonic() + 15
    while not client.is_connected():
        if time.monotonic() > deadline:
            raise ConnectionError("no CONNACK from the broker in 15 s")
        if isinstance(client, _BufferedClient):
            client.flush()
        client.loop(timeout=0.05)


class Publisher:
    def __init__(self, broker: Broker, plan: Plan, client_id: str) -> None:
        self.broker, self.plan, self.client_id = broker, plan, client_id
        self.topics = [message_topic(plan.topic_root, UUID(h), UUID(d), k) for h, d, k in plan.devices]
        self.fields = [FIELDS[k] for _, _, k in plan.devices]
        self.unacked: dict[int, tuple[str, bytes]] = {}
        self.sent = self.acked = self.refused = self.retries = self.reconnects = 0
        self.first = self.last = self.last_ack = 0.0
        self.client = self._open()

    def _open(self) -> _BufferedClient:
        client = _BufferedClient(CallbackAPIVersion.VERSION2, client_id=self.client_id, protocol=paho.MQTTv5)
        client.on_publish = self._on_publish
        _connect(self.broker, client)
        return client

    def _on_publish(self, _c: Any, _u: Any, mid: int, code: Any, _p: Any) -> None:
        if self.unacked.pop(mid, None) is None:
            return
        if code.is_failure:
            self.refused += 1
        else:
            self.acked += 1
        self.last_ack = time.time()

    def _send(self, topic: str, body: bytes) -> None:
        info = self.client.publish(topic, body, qos=1)
        if info.rc != paho.MQTT_ERR_SUCCESS:
            raise ConnectionError(paho.error_string(info.rc))
        self.unacked[info.mid] = (topic, body)

    def publish_next(self) -> None:
        n = self.sent
        i = n % len(self.topics)
        seq = self.plan.first_seq + n // len(self.topics)
        now = time.time()
        fields = self.fields[i][seq & 1]
        ts = datetime.fromtimestamp(now, UTC).isoformat()
        self._send(self.topics[i], orjson.dumps({"ts": ts, "seq": seq, **fields}))
        if not n:
            self.first = now
        self.last = now
        self.sent = n + 1

    def pump(self, timeout: float = 0.0) -> None:
        """Read PUBACKs and write what is pending; on a lost connection reconnect and resend the unacked."""
        client = self.client
        if client.flush() and client.loop(timeout=timeout) == paho.MQTT_ERR_SUCCESS and client.flush():
            return
        lost = list(self.unacked.values())
        self.unacked.clear()
        while True:
            client.reset_buffers()
            try:
                client.reconnect()
                _await_connack(client)
                break
            except OSError:
                time.sleep(0.5)
        self.reconnects += 1
        for topic, body in lost:
            self.retries += 1
            self._send(topic, body)

    def run(self) -> Report:
        plan = self.plan
        start = time.monotonic()
        end = start + plan.duration_s if plan.duration_s else float("inf")
        total = plan.total if plan.total is not None else 1 << 62
        while self.sent < total:
            now = time.monotonic()
            if now >= end:
                break
            target = (
                total if plan.rate_per_s is None else min(total, int((now - start) * plan.rate_per_s) + 1)
            )
            while self.sent < target and len(self.unacked) < plan.window:
                self.publish_next()
            # Block in select (not spin: the broker needs the CPU) until acks arrive or the next tick.
            self.pump(timeout=_TICK_S if self.sent >= target or self.unacked else 0.0)
        deadline = time.monotonic() + plan.ack_timeout_s
        while self.unacked and time.monotonic() < deadline:
            self.pump(timeout=0.05)
        self.client.disconnect()
        self.client.flush()
        return Report(
            self.sent,
            self.acked,
            self.refused,
            self.retries,
            self.reconnects,
            self.first,
            self.last,
            self.last_ack,
            None if not self.unacked else f"{len(self.unacked)} messages never acknowledged",
        )


def _publisher_main(broker: Broker, plan: Plan, client_id: str, out: Connection) -> None:
    try:
        out.send(Publisher(broker, plan, client_id).run())
    except Exception as exc:  # reported to the parent, which fails the bench
        out.send(Report(0, 0, 0, 0, 0, 0.0, 0.0, 0.0, f"{type(exc).__name__}: {exc}"))


def _subscriber_main(
    broker: Broker, topic: str, expected: int, timeout_s: float, receive_maximum: int, out: Connection
) -> None:
    counts = {"n": 0, "first": 0.0, "last": 0.0}

    def on_message(_c: Any, _u: Any, _m: Any) -> None:
        now = time.time()
        if not counts["n"]:
            counts["first"] = now
        counts["n"] += 1
        counts["last"] = now

    subscribed: list[bool] = []
    # Stock paho, as the worker uses it (not the publisher's batched I/O), driven like loop_forever.
    client = paho.Client(
        CallbackAPIVersion.VERSION2, client_id=f"bench-ceiling-{os.getpid()}", protocol=paho.MQTTv5
    )
    client.on_message = on_message
    client.on_subscribe = lambda *_a: subscribed.append(True)
    _connect(broker, client, receive_maximum=receive_maximum)
    client.subscribe(topic, qos=1)
    while not subscribed:
        client.loop(timeout=0.05)
    out.send("ready")
    deadline = time.monotonic() + timeout_s
    while counts["n"] < expected and time.monotonic() < deadline:
        client.loop(timeout=0.05)
    client.disconnect()
    out.send(dict(counts))


_CTX = mp.get_context("spawn")


class Child:
    """A load process and the pipe its report comes back on."""

    def __init__(self, target: Any, *args: Any) -> None:
        self.pipe, child_end = _CTX.Pipe(duplex=False)
        self.proc = _CTX.Process(target=target, args=(*args, child_end), daemon=True)
        self.proc.start()
        child_end.close()

    def receive(self, timeout_s: float) -> Any:
        """The next thing the child sends; raise if it sends nothing in time."""
        if not self.pipe.poll(timeout_s):
            raise TimeoutError(f"load process {self.proc.pid} sent nothing in {timeout_s:.0f} s")
        return self.pipe.recv()

    def stop(self) -> None:
        """Make sure the process is gone."""
        self.proc.join(timeout=5)
        if self.proc.is_alive():
            self.proc.terminate()
            self.proc.join(timeout=5)


def start_publisher(broker: Broker, plan: Plan, client_id: str) -> Child:
    """Start a publisher process; its Report comes back through `receive`."""
    return Child(_publisher_main, broker, plan, client_id)


def start_subscriber(
    broker: Broker, topic: str, *, expected: int, timeout_s: float, receive_maximum: int
) -> Child:
    """Start a counting subscriber; it sends "ready" once subscribed, then {n, first, last}."""
    return Child(_subscriber_main, broker, topic, expected, timeout_s, receive_maximum)
