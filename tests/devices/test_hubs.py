"""Home hubs (contract 1.1) through the real broker: provisioned for one home, publishing for it alone."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg
import orjson
import pytest

from devices import service as devices
from devices.contract import CONTRACT_VERSION, ContractError, MessageKind, message_topic
from devices.dynsec import DynsecAdmin, connect_admin
from devices.health import mark_silent_offline
from devices.hubs import MAX_BATCH_READINGS, batch_topic, parse_batch, split_item
from homes import queries as home_queries
from kernel.connect import mqtt_config
from kernel.db import create_pool
from kernel.embedded import EmbeddedMosquitto
from kernel.mqtt import AsyncMqttClient, MqttConfig, MqttRefused
from kernel.settings import Settings


@dataclass
class Homes:
    """Two homes, each with a hub and a motion sensor."""

    pool: asyncpg.Pool
    admin: DynsecAdmin
    settings: Settings
    broker: EmbeddedMosquitto
    home_a: uuid.UUID
    home_b: uuid.UUID
    hub_a: devices.Provisioned
    sensor_a: devices.Provisioned
    hub_b: devices.Provisioned
    sensor_b: devices.Provisioned

    def client(self, ident: devices.Provisioned) -> AsyncMqttClient:
        """An MQTT client with a device's identity."""
        return AsyncMqttClient(
            MqttConfig(
                host="127.0.0.1",
                port=self.broker.port,
                client_id=ident.client_id,
                username=ident.username,
                password=ident.password,
            )
        )


@pytest.fixture
async def homes(settings: Settings, broker: EmbeddedMosquitto) -> AsyncIterator[Homes]:
    pool = await create_pool(settings.database_url or "", min_size=1, max_size=4)
    root = settings.mqtt_topic_root
    try:
        async with connect_admin(mqtt_config(settings, client_id=f"adm-{uuid.uuid4().hex[:6]}")) as admin:
            async with pool.acquire() as conn:
                org = await home_queries.insert_organisation(conn, name="Org")
                home_a = await home_queries.insert_home(conn, organisation_id=org, name="A")
                home_b = await home_queries.insert_home(conn, organisation_id=org, name="B")
            made = []
            for home in (home_a, home_b):
                for kind in ("hub", "motion_sensor"):
                    made.append(
                        await devices.register_device(
                            pool, admin, topic_root=root, home_id=home, device_type=kind
                        )
                    )
            yield Homes(pool, admin, settings, broker, home_a, home_b, *made)
    finally:
        await pool.close()


def _motion(seq: int) -> bytes:
    return orjson.dumps({"ts": "2026-01-05T10:00:00Z", "seq": seq, "detected": True})


async def test_a_hub_is_provisioned_for_its_home(homes: Homes) -> None:
    root = homes.settings.mqtt_topic_root
    assert CONTRACT_VERSION == "1.1"
    assert homes.hub_a.publish_topic == f"{root}/v1/{homes.home_a}/+/+"
    assert homes.hub_a.command_topic == f"{root}/v1/{homes.home_a}/+/cmd"
    # An ordinary device's identity is what it was before hubs.
    sensor = homes.sensor_a
    assert sensor.publish_topic == f"{root}/v1/{homes.home_a}/{sensor.device_id}/+"
    client = await homes.admin.get_client(homes.hub_a.username)
    assert client is not None


async def test_a_hub_publishes_for_its_home_and_no_other(homes: Homes) -> None:
    root = homes.settings.mqtt_topic_root
    hub = homes.client(homes.hub_a)
    await hub.connect()
    try:
        # Its own topics, a device of its home's topics, and its batch topic.
        await hub.publish(
            message_topic(root, homes.home_a, homes.hub_a.device_id, MessageKind.HEARTBEAT), b"{}"
        )
        await hub.publish(
            message_topic(root, homes.home_a, homes.sensor_a.device_id, MessageKind.MOTION), _motion(1)
        )
        await hub.publish(batch_topic(root, homes.home_a, homes.hub_a.device_id), b"{}")
        refused = [
            message_topic(root, homes.home_b, homes.sensor_b.device_id, MessageKind.MOTION),  # another home
            batch_topic(root, homes.home_b, homes.hub_a.device_id),  # its own id under another home
            f"{root}/v1/{homes.home_a}/{homes.sensor_a.device_id}/cmd",  # a command topic
        ]
        for topic in refused:
            with pytest.raises(MqttRefused, match="Not authorized"):
                await hub.publish(topic, _motion(2))
        await hub.subscribe(homes.hub_a.command_topic)
        with pytest.raises(MqttRefused):
            await hub.subscribe(f"{root}/v1/{homes.home_b}/+/cmd")
    finally:
        await hub.disconnect()


async def test_a_plain_device_still_cannot_publish_for_its_neighbours(homes: Homes) -> None:
    root = homes.settings.mqtt_topic_root
    sensor = homes.client(homes.sensor_a)
    await sensor.connect()
    try:
        with pytest.raises(MqttRefused, match="Not authorized"):
            await sensor.publish(
                message_topic(root, homes.home_a, homes.hub_a.device_id, MessageKind.MOTION), b"{}"
            )
    finally:
        await sensor.disconnect()


async def test_decommissioning_a_hub_removes_its_broker_identity(homes: Homes) -> None:
    root = homes.settings.mqtt_topic_root
    await devices.decommission(homes.pool, homes.admin, topic_root=root, device_id=homes.hub_b.device_id)
    assert await homes.admin.get_client(homes.hub_b.username) is None
    with pytest.raises(MqttRefused):
        await homes.client(homes.hub_b).connect(timeout=5)


def test_the_batch_envelope_is_checked() -> None:
    device = uuid.uuid4()
    item = {
        "device_id": str(device),
        "kind": "motion",
        "ts": "2026-01-05T10:00:00Z",
        "seq": 1,
        "detected": True,
    }
    items = parse_batch(orjson.dumps({"v": 1, "readings": [item, 5]}))
    assert items[0] == item
    assert getattr(items[1], "reason", None) == "not_object"
    split = split_item(0, dict(item))
    assert (split.device_id, split.kind, "device_id" in split.data) == (device, MessageKind.MOTION, False)
    for payload, reason in [
        ({"readings": []}, "out_of_range"),
        ({"readings": [item] * (MAX_BATCH_READINGS + 1)}, "out_of_range"),
        ({"readings": item}, "wrong_type"),
        ({}, "missing_field"),
        ({"readings": [item], "hub": 1}, "unknown_field"),
        ({"readings": [item], "v": 2}, "bad_version"),
    ]:
        with pytest.raises(ContractError) as caught:
            parse_batch(orjson.dumps(payload))
        assert getattr(caught.value, "reason", None) == reason, payload
    for bad, reason in [
        ({**item, "device_id": str(device).upper()}, "out_of_range"),
        ({**item, "kind": "teleport"}, "unknown_kind"),
        ({k: v for k, v in item.items() if k != "kind"}, "missing_field"),
    ]:
        with pytest.raises(ContractError, match=r"readings\[3\]") as caught:
            split_item(3, bad)
        assert getattr(caught.value, "reason", None) == reason


async def test_the_heartbeat_check_leaves_devices_behind_an_offline_hub_alone(homes: Homes) -> None:
    now = datetime.now(UTC)
    long_ago = now - timedelta(hours=3)
    async with homes.pool.acquire() as conn:
        rows = [
            (homes.hub_a.device_id, homes.home_a, False),  # home A's hub is down
            (homes.sensor_a.device_id, homes.home_a, True),
            (homes.hub_b.device_id, homes.home_b, True),  # home B's hub is up; its sensor is silent
            (homes.sensor_b.device_id, homes.home_b, True),
        ]
        for device, home, online in rows:
            await conn.execute(
                "INSERT INTO device_health (device_id, home_id, last_seen_at, online)"
                " VALUES ($1, $2, $3, $4)",
                device,
                home,
                long_ago if device != homes.hub_b.device_id else now,
                online,
            )
        async with conn.transaction():
            events = await mark_silent_offline(conn, now=now)
    assert {e.device_id for e in events} == {homes.sensor_b.device_id}
