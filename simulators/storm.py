"""A reconnect storm: every hub connecting again at once, as after a broker restart.

Thousands of hubs cannot each be a paho client (a thread apiece), so a hub here is a small asyncio
MQTT 5 session of its own: CONNECT with its last will (a retained `offline` presence), a retained
`online` presence at QoS 1 right after CONNACK, as the contract asks (docs/mqtt-contract.md, Presence
and last will), then it stays connected (PINGREQ every keepalive) until told to stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import orjson


@dataclass(frozen=True, slots=True)
class HubLogin:
    """Who a hub is to the broker and where its presence goes."""

    client_id: str
    username: str
    password: str
    presence_topic: str


@dataclass
class StormResult:
    """How the storm went: connected hubs, and when each step finished (monotonic seconds)."""

    started: float = 0.0
    connected: list[float] = field(default_factory=list)  # CONNACK times
    announced: list[float] = field(default_factory=list)  # PUBACK of the online presence
    failed: int = 0
    errors: dict[str, int] = field(default_factory=dict)


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        n, digit = divmod(n, 128)
        out.append(digit | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _text(value: str | bytes) -> bytes:
    raw = value.encode() if isinstance(value, str) else value
    return struct.pack("!H", len(raw)) + raw


def _packet(kind: int, body: bytes) -> bytes:
    return bytes([kind]) + _varint(len(body)) + body


def connect_packet(login: HubLogin, will: bytes, *, keepalive: int, session_expiry_s: int) -> bytes:
    """An MQTT 5 CONNECT with username, password and a retained QoS 1 will."""
    flags = 0x80 | 0x40 | 0x20 | 0x08 | 0x04  # username, password, will retain, will QoS 1, will
    props = b"\x11" + struct.pack("!I", session_expiry_s)
    head = (
        _text("MQTT") + b"\x05" + bytes([flags]) + struct.pack("!H", keepalive) + _varint(len(props)) + props
    )
    payload = _text(login.client_id) + b"\x00" + _text(login.presence_topic) + _text(will)
    return _packet(0x10, head + payload + _text(login.username) + _text(login.password))


def publish_packet(topic: str, payload: bytes, packet_id: int, *, retain: bool) -> bytes:
    """A QoS 1 PUBLISH without properties."""
    return _packet(0x32 | int(retain), _text(topic) + struct.pack("!H", packet_id) + b"\x00" + payload)


async def _read_packet(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    kind = (await reader.readexactly(1))[0]
    length, shift = 0, 0
    while True:
        digit = (await reader.readexactly(1))[0]
        length |= (digit & 0x7F) << shift
        shift += 7
        if not digit & 0x80:
            break
    return kind, await reader.readexactly(length)


def _presence(state: str, seq: int) -> bytes:
    return orjson.dumps({"ts": datetime.now(UTC).isoformat(), "seq": seq, "state": state})


async def _hub(
    host: str, port: int, login: HubLogin, seq: int, result: StormResult, stop: asyncio.Event, keepalive: int
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        will = _presence("offline", seq)
        writer.write(connect_packet(login, will, keepalive=keepalive, session_expiry_s=3600))
        kind, body = await _read_packet(reader)
        if kind >> 4 != 2 or body[1] != 0:
            raise ConnectionRefusedError(f"CONNACK reason {body[1] if len(body) > 1 else '?'}")
        result.connected.append(time.monotonic())
        writer.write(publish_packet(login.presence_topic, _presence("online", seq + 1), 1, retain=True))
        kind, _ = await _read_packet(reader)
        if kind >> 4 != 4:
            raise ConnectionError(f"expected PUBACK, got packet type {kind >> 4}")
        result.announced.append(time.monotonic())
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), keepalive * 0.8)
            if not stop.is_set():
                writer.write(b"\xc0\x00")  # PINGREQ; the PINGRESP is read and dropped below
                await asyncio.wait_for(_read_packet(reader), keepalive)
        # A clean shutdown says so itself: a normal DISCONNECT discards the will.
        writer.write(publish_packet(login.presence_topic, _presence("offline", seq + 2), 2, retain=True))
        writer.write(b"\xe0\x00")
        await writer.drain()
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


async def reconnect_storm(
    host: str,
    port: int,
    hubs: Sequence[HubLogin],
    *,
    within_s: float,
    hold: asyncio.Event,
    first_seq: int = 1,
    keepalive: int = 60,
    result: StormResult | None = None,
) -> StormResult:
    """Connect every hub within `within_s` (evenly spread), keep them until `hold` is set, then leave.

    Returns once every hub has disconnected; the result's lists (pass `result` to watch them fill)
    say how fast they came back.
    """
    result = result or StormResult()
    result.started = time.monotonic()

    async def one(n: int, login: HubLogin) -> None:
        await asyncio.sleep(within_s * n / max(len(hubs), 1))
        try:
            await _hub(host, port, login, first_seq, result, hold, keepalive)
        except (OSError, asyncio.IncompleteReadError, TimeoutError) as exc:
            result.failed += 1
            name = type(exc).__name__
            result.errors[name] = result.errors.get(name, 0) + 1

    await asyncio.gather(*(one(n, login) for n, login in enumerate(hubs)))
    return result
