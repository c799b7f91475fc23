"""Dynamic-security administration against the real broker."""

from __future__ import annotations

import uuid

import pytest

from devices.dynsec import DeviceAcl, DynsecError, connect_admin
from kernel.embedded import EmbeddedMosquitto
from kernel.mqtt import AsyncMqttClient, MqttConfig, MqttRefused


def _acl(root: str) -> DeviceAcl:
    home, device = uuid.uuid4(), uuid.uuid4()
    return DeviceAcl(
        username=str(device),
        client_id=str(device),
        publish_topic=f"{root}/v1/{home}/{device}/#",
        command_topic=f"{root}/v1/{home}/{device}/cmd",
    )


async def test_device_publishes_only_under_its_own_topic(
    broker: EmbeddedMosquitto, admin_mqtt: MqttConfig, topic_root: str
) -> None:
    acl = _acl(topic_root)
    async with connect_admin(admin_mqtt) as admin:
        await admin.create_device(acl, "s3cret-pass")
        device = AsyncMqttClient(
            MqttConfig(
                host="127.0.0.1",
                port=broker.port,
                client_id=acl.client_id,
                username=acl.username,
                password="s3cret-pass",
            )
        )
        await device.connect()
        try:
            await device.publish(acl.publish_topic.replace("#", "motion"), b"{}")
            with pytest.raises(MqttRefused):
                await device.publish(f"{topic_root}/v1/{uuid.uuid4()}/{acl.username}/motion", b"{}")
        finally:
            await device.disconnect()
        await admin.delete_device(acl)


async def test_creating_a_client_twice_is_refused(admin_mqtt: MqttConfig, topic_root: str) -> None:
    acl = _acl(topic_root)
    async with connect_admin(admin_mqtt) as admin:
        await admin.create_device(acl, "pw-1")
        with pytest.raises(DynsecError):
            await admin.create_device(acl, "pw-2")
        assert await admin.get_client(acl.username) is not None
        await admin.delete_device(acl)
        assert await admin.get_client(acl.username) is None
