"""The one adapter between paho-mqtt's network thread and asyncio.

paho runs its own thread (loop_start). Every callback does nothing but hand its result to the
event loop with call_soon_threadsafe: messages into a bounded queue, acknowledgements into futures.
Callback code is wrapped so that an exception is logged and never kills paho's thread.
The paho client itself is kernel.mqtt_wire's, which reads and acknowledges more cheaply.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from kernel.mqtt_wire import Inbox, Incoming, LeanClient

__all__ = [
    "SESSION_NEVER_EXPIRES",
    "AsyncMqttClient",
    "Inbox",
    "Incoming",
    "MqttConfig",
    "MqttError",
    "MqttRefused",
    "Will",
]

log = logging.getLogger(__name__)

SESSION_NEVER_EXPIRES = 0xFFFFFFFF
# A filter no client subscribes to: unsubscribing from it is a round trip that changes nothing (see
# AsyncMqttClient.disconnect). The longest a clean disconnect waits for the broker's answer.
_CONFIRM_FILTER = "telecare-internal/no-such-subscription"
CONFIRM_TIMEOUT_S = 10.0


class MqttError(Exception):
    """The broker refused or could not be reached."""


class MqttRefused(MqttError):
    """The broker answered with a failure reason code (for example: not authorised)."""

    def __init__(self, what: str, reason: str, code: int) -> None:
        super().__init__(f"{what} refused by the broker: {reason}")
        self.reason = reason
        self.code = code


@dataclass(frozen=True, slots=True)
class MqttConfig:
    """Where and how to connect."""

    host: str
    port: int
    client_id: str
    username: str | None = None
    password: str | None = None
    tls: bool = False
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    clean_start: bool = True
    session_expiry_s: int = 0
    receive_maximum: int = 1000
    max_inflight_out: int = 1000
    keepalive_s: int = 30

    @classmethod
    def from_url(cls, url: str, *, client_id: str, **kwargs: Any) -> MqttConfig:
        """Parse mqtt://host:port or mqtts://host:port into a config."""
        parts = urlsplit(url)
        tls = parts.scheme == "mqtts"
        return cls(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or (8883 if tls else 1883),
            client_id=client_id,
            tls=tls,
            **kwargs,
        )


@dataclass(frozen=True, slots=True)
class Will:
    """The message the broker publishes for us if we vanish."""

    topic: str
    payload: bytes
    retain: bool = True


class AsyncMqttClient:
    """A paho client driven from asyncio: connect, subscribe, publish-and-wait, a bounded inbox."""

    def __init__(
        self,
        config: MqttConfig,
        *,
        manual_ack: bool = False,
        queue_size: int | None = None,
        will: Will | None = None,
    ) -> None:
        self.config = config
        self.manual_ack = manual_ack
        # With manual acks the broker should never have more than receive_maximum messages in flight
        # to us, but Mosquitto before 2.0.13 (Debian 12 ships 2.0.11) lets every PUBACK move up to
        # receive_maximum more queued messages into flight, so a backlog arrives all at once. Then paho's
        # thread waits for room in the inbox (it stops reading, and TCP holds the broker back) instead
        # of dropping a message that would stay unacknowledged, holding its slot, until a reconnect.
        size = queue_size or config.receive_maximum
        self._loop = asyncio.get_running_loop()
        self.inbox: Inbox | None = Inbox(size, self._loop) if manual_ack else None
        self._queue: asyncio.Queue[Incoming] | None = None if manual_ack else asyncio.Queue(size)
        self.dropped = 0
        self._closing = False
        self._acked = False  # acknowledgements queued that the broker has not yet confirmed reading
        # Messages from paho's thread wait here until the event loop moves them into the queue: one
        # wake-up of the loop for each burst instead of one for each message.
        self._arrived: deque[Incoming] = deque()
        self._wake_pending = False
        # Only touched on the event loop's thread: paho's callbacks hand acks over with
        # call_soon_threadsafe, which runs after the publish/subscribe call that registered the future.
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._connected = asyncio.Event()
        self._first_connect: asyncio.Future[None] = self._loop.create_future()
        self._subscriptions: list[tuple[str, int]] = []
        self._client = self._build(will)

    @property
    def is_connected(self) -> bool:
        """True while the connection to the broker is up."""
        return self._connected.is_set()

    @property
    def messages(self) -> asyncio.Queue[Incoming]:
        """Received messages (automatic acknowledgement); a manual-ack client takes from `inbox` instead."""
        if self._queue is None:
            raise RuntimeError("a manual-ack client receives through its inbox")
        return self._queue

    def ack_all(self, messages: Sequence[Incoming]) -> None:
        """Acknowledge handled messages of a manual-ack client (one write for all) and free their room."""
        self._acked = True
        self._client.ack_many([m.mid for m in messages if m.qos == 1])
        for m in messages:
            if m.qos == 2:
                self._client.ack(m.mid, 2)
        if self.inbox is not None:
            self.inbox.release(len(messages))

    def _ack_one(self, mid: int, qos: int) -> None:
        self._acked = True
        if qos == 1:
            self._client.ack_many([mid])
        elif qos == 2:
            self._client.ack(mid, 2)
        if self.inbox is not None:
            self.inbox.release(1)

    def _build(self, will: Will | None) -> LeanClient:
        cfg = self.config
        client = LeanClient(
            CallbackAPIVersion.VERSION2,
            client_id=cfg.client_id,
            protocol=paho.MQTTv5,
            manual_ack=self.manual_ack,
            deliver=self._guard(self._on_publish_received),
        )
        if cfg.username is not None:
            client.username_pw_set(cfg.username, cfg.password)
        if cfg.tls:
            client.tls_set(
                ca_certs=str(cfg.ca_file) if cfg.ca_file else None,
                certfile=str(cfg.cert_file) if cfg.cert_file else None,
                keyfile=str(cfg.key_file) if cfg.key_file else None,
                tls_version=ssl.PROTOCOL_TLS_CLIENT,
            )
        if will is not None:
            client.will_set(will.topic, will.payload, qos=1, retain=will.retain)
        client.max_inflight_messages_set(cfg.max_inflight_out)
        client.max_queued_messages_set(0)
        client.reconnect_delay_set(min_delay=1, max_delay=10)
        client.on_connect = self._guard(self._on_connect)
        client.on_disconnect = self._guard(self._on_disconnect)
        client.on_message = self._guard(self._on_message)  # the few messages LeanClient leaves to paho
        client.on_publish = self._guard(self._on_ack)
        client.on_subscribe = self._guard(self._on_subscribe)
        client.on_unsubscribe = self._guard(self._on_subscribe)  # the same arguments, resolved alike
        return client

    def _guard(self, fn: Callable[..., None]) -> Callable[..., None]:
        def wrapped(*args: Any) -> None:
            try:
                fn(*args)
            except Exception:
                log.exception("MQTT callback %s failed; the client carries on", fn.__name__)

        return wrapped

    async def connect(self, timeout: float = 15.0) -> None:
        """Connect and wait for the broker's CONNACK; raise MqttRefused or MqttError if it fails."""
        cfg = self.config
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.ReceiveMaximum = cfg.receive_maximum
        if cfg.session_expiry_s:
            props.SessionExpiryInterval = cfg.session_expiry_s
        try:
            self._client.connect_async(
                cfg.host,
                cfg.port,
                keepalive=cfg.keepalive_s,
                clean_start=cfg.clean_start,
                properties=props,
            )
        except (OSError, ValueError) as exc:
            raise MqttError(f"cannot reach MQTT broker {cfg.host}:{cfg.port}: {exc}") from exc
        self._client.loop_start()
        try:
            await asyncio.wait_for(asyncio.shield(self._first_connect), timeout)
        except TimeoutError as exc:
            await self.disconnect()
            raise MqttError(f"no answer from MQTT broker {cfg.host}:{cfg.port} in {timeout:.0f} s") from exc
        except MqttError:
            await self.disconnect()
            raise

    async def disconnect(self, *, send_will: bool = False) -> None:
        """Disconnect and stop paho's thread; with send_will the broker publishes our last will (MQTT 5).

        Acknowledgements given before are confirmed first (a bounded wait), so that a session taken up
        again at once is not sent again what this one acknowledged.
        """
        self._closing = True
        if self._acked and self.is_connected:
            await self._confirm_acks()
        if send_will:
            self._client.disconnect(
                reasoncode=ReasonCode(PacketTypes.DISCONNECT, "Disconnect with will message")
            )
        else:
            self._client.disconnect()
        await asyncio.to_thread(self._client.loop_stop)
        self._connected.clear()
        for fut in self._pending.values():
            if not fut.done():
                fut.set_exception(MqttError("client disconnected"))
        self._pending.clear()

    async def _confirm_acks(self) -> None:
        """Wait until the broker has read every acknowledgement queued so far (at most CONFIRM_TIMEOUT_S).

        Written to the socket is not read: Mosquitto reads a connection one packet at a time, and a new
        connection with our client id, read meanwhile, takes the session over and closes this one with
        our last PUBACKs and DISCONNECT unread (seen under load: acknowledged messages came again). The
        broker answers packets in order, so the answer to one sent after the acks means it read them.
        """
        result, mid = self._client.unsubscribe(_CONFIRM_FILTER)
        if result != paho.MQTT_ERR_SUCCESS or mid is None:
            return
        try:
            await asyncio.wait_for(self._register(mid), CONFIRM_TIMEOUT_S)
            self._acked = False
        except (TimeoutError, MqttError):
            log.warning("the broker did not confirm our last acknowledgements; they may come again")

    async def subscribe(self, topic: str, qos: int = 1) -> None:
        """Subscribe and wait for SUBACK; raise MqttRefused when the broker refuses the filter."""
        result, mid = self._client.subscribe(topic, qos)
        if result != paho.MQTT_ERR_SUCCESS or mid is None:
            raise MqttError(f"subscribe to {topic} failed: {paho.error_string(result)}")
        fut = self._register(mid)
        codes: list[ReasonCode] = await fut
        for code in codes:
            if code.is_failure:
                raise MqttRefused(f"subscription to {topic}", str(code), code.value)
        self._subscriptions.append((topic, qos))

    async def publish(
        self,
        topic: str,
        payload: bytes,
        *,
        qos: int = 1,
        retain: bool = False,
        properties: Properties | None = None,
    ) -> None:
        """Publish and, at QoS 1, wait for PUBACK; raise MqttRefused when the broker refuses it."""
        info = self._client.publish(topic, payload, qos=qos, retain=retain, properties=properties)
        if info.rc != paho.MQTT_ERR_SUCCESS:
            raise MqttError(f"publish to {topic} failed: {paho.error_string(info.rc)}")
        if qos == 0:
            return
        code: ReasonCode = await self._register(info.mid)
        if code.is_failure:
            raise MqttRefused(f"publish to {topic}", str(code), code.value)

    def _register(self, mid: int) -> asyncio.Future[Any]:
        fut: asyncio.Future[Any] = self._loop.create_future()
        self._pending[mid] = fut
        return fut

    def _resolve(self, mid: int, value: Any) -> None:
        fut = self._pending.pop(mid, None)
        if fut is not None and not fut.done():
            fut.set_result(value)

    # --- paho callbacks (network thread) ---

    def _on_connect(self, client: paho.Client, _u: Any, flags: Any, code: ReasonCode, _p: Any) -> None:
        if code.is_failure:
            log.warning("MQTT broker refused connection: %s", code)
            if not self._first_connect.done():
                client.disconnect()
                self._loop.call_soon_threadsafe(
                    _set_exception,
                    self._first_connect,
                    MqttRefused("connection", str(code), code.value),
                )
            return
        # Resubscribe even when the broker says the session is present: Mosquitto 2.0 restores a
        # persistent session after a restart but not its shared subscriptions.
        for topic, qos in self._subscriptions:
            client.subscribe(topic, qos)
        self._loop.call_soon_threadsafe(self._connected.set)
        self._loop.call_soon_threadsafe(_set_result, self._first_connect, None)

    def _on_disconnect(self, _c: Any, _u: Any, _f: Any, code: ReasonCode, _p: Any) -> None:
        self._loop.call_soon_threadsafe(self._connected.clear)
        if code.value != 0:
            log.warning("MQTT connection lost (%s); reconnecting", code)

    def _on_message(self, _c: Any, _u: Any, msg: paho.MQTTMessage) -> None:
        self._on_publish_received(msg.topic, bytes(msg.payload), msg.qos, msg.mid, bool(msg.retain))

    def _on_publish_received(self, topic: str, payload: bytes, qos: int, mid: int, retain: bool) -> None:
        inbox = self.inbox
        if inbox is not None:
            if not inbox.wait_for_room(lambda: self._closing):
                return  # not acknowledged: the broker sends it again in the next session
            inbox.put(Incoming(topic, payload, qos, mid, retain, datetime.now(UTC), self._ack_one))
            return
        self._arrived.append(Incoming(topic, payload, qos, mid, retain, datetime.now(UTC)))
        # Appended before the flag is read, and the loop clears the flag before it empties the deque,
        # so either a wake-up is already pending that will see this message, or this one schedules it.
        if not self._wake_pending:
            self._wake_pending = True
            self._loop.call_soon_threadsafe(self._deliver_arrived)

    def _on_ack(self, _c: Any, _u: Any, mid: int, code: ReasonCode, _p: Any) -> None:
        self._loop.call_soon_threadsafe(self._resolve, mid, code)

    def _on_subscribe(self, _c: Any, _u: Any, mid: int, codes: list[ReasonCode], _p: Any) -> None:
        self._loop.call_soon_threadsafe(self._resolve, mid, codes)

    def _deliver_arrived(self) -> None:
        self._wake_pending = False
        arrived = self._arrived
        while arrived:
            self._deliver(arrived.popleft())

    def _deliver(self, item: Incoming) -> None:
        try:
            self.messages.put_nowait(item)
        except asyncio.QueueFull:
            # Only possible without manual acks (with them paho's thread waits for room in the inbox),
            # so the broker has had its acknowledgement: the message is lost, and counted.
            self.dropped += 1
            log.error("MQTT queue full (%d); message on %s not taken", self.messages.maxsize, item.topic)


def _set_result(fut: asyncio.Future[Any], value: Any) -> None:
    if not fut.done():
        fut.set_result(value)


def _set_exception(fut: asyncio.Future[Any], exc: BaseException) -> None:
    if not fut.done():
        fut.set_exception(exc)
