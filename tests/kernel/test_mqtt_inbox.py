"""The MQTT adapter as ingest uses it, against the real broker: manual acknowledgement, a bounded inbox."""

from __future__ import annotations

import asyncio
import uuid

from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from kernel.embedded import EmbeddedMosquitto
from kernel.embedded.mosquitto import ADMIN_USER
from kernel.mqtt import AsyncMqttClient, Incoming, MqttConfig
from kernel.settings import Settings
from tests.support import rig_publisher


def _receiver_config(broker: EmbeddedMosquitto, client_id: str, window: int) -> MqttConfig:
    return MqttConfig(
        host="127.0.0.1",
        port=broker.port,
        client_id=client_id,
        username=ADMIN_USER,
        password=broker.admin_password,
        clean_start=False,
        session_expiry_s=600,
        receive_maximum=window,
    )


async def _take(client: AsyncMqttClient, count: int, timeout: float = 10) -> list[Incoming]:
    assert client.inbox is not None
    got: list[Incoming] = []
    async with asyncio.timeout(timeout):
        while len(got) < count:
            got += await client.inbox.take(count - len(got))
    return got


async def _publish(
    settings: Settings, broker: EmbeddedMosquitto, messages: list[tuple[str, bytes, int]]
) -> None:
    properties = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
    properties.UserProperty = [("source", "test")]
    properties.MessageExpiryInterval = 600
    properties.ContentType = "application/json"
    publisher = AsyncMqttClient(await rig_publisher(settings, broker))
    await publisher.connect()
    try:
        for n, (topic, payload, qos) in enumerate(messages):
            await publisher.publish(topic, payload, qos=qos, properties=properties if n % 2 else None)
    finally:
        await publisher.disconnect()


async def test_the_inbox_holds_at_most_the_window_until_messages_are_acknowledged(
    settings: Settings, broker: EmbeddedMosquitto
) -> None:
    root = settings.mqtt_topic_root
    receiver = AsyncMqttClient(_receiver_config(broker, f"inbox-{uuid.uuid4().hex[:8]}", 4), manual_ack=True)
    await receiver.connect()
    try:
        await receiver.subscribe(f"{root}/#", qos=1)
        sent = [(f"{root}/v1/ü/{n}", b'{"n": %d}' % n, n % 3 and 1) for n in range(10)]  # some at QoS 0
        await _publish(settings, broker, sent)
        first = await _take(receiver, 4)
        await asyncio.sleep(0.3)
        assert receiver.inbox is not None and receiver.inbox.held == 4
        got, acked = first, 0
        while len(got) < len(sent):
            receiver.ack_all(got[acked : acked + 2])
            acked += 2
            got += await _take(receiver, min(2, len(sent) - len(got)))
            assert receiver.inbox.held <= 4
        assert sorted((m.topic, m.payload, m.qos) for m in got) == sorted(sent)
    finally:
        await receiver.disconnect()


async def test_what_was_not_acknowledged_comes_again_and_nothing_else(
    settings: Settings, broker: EmbeddedMosquitto
) -> None:
    root, client_id = settings.mqtt_topic_root, f"redo-{uuid.uuid4().hex[:8]}"
    receiver = AsyncMqttClient(_receiver_config(broker, client_id, 100), manual_ack=True)
    await receiver.connect()
    await receiver.subscribe(f"{root}/#", qos=1)
    sent = [(f"{root}/v1/a/{n}", b"payload %d" % n, 1) for n in range(8)]
    await _publish(settings, broker, sent)
    got = await _take(receiver, len(sent))
    receiver.ack_all(got[:3])
    got[3].ack()
    await receiver.disconnect()

    again = AsyncMqttClient(_receiver_config(broker, client_id, 100), manual_ack=True)
    await again.connect()
    try:
        redelivered = await _take(again, 4)
        await asyncio.sleep(0.5)
        assert again.inbox is not None and again.inbox.held == 4
        assert sorted(m.payload for m in redelivered) == sorted(m.payload for m in got[4:])
        again.ack_all(redelivered)
    finally:
        await again.disconnect()
