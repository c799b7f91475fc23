"""The fleet's load: homes behind hubs, bursting with activity, a morning peak; and a reconnect storm."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter

from devices.contract import parse_topic
from devices.dynsec import connect_admin
from devices.hubs import is_batch_topic, parse_batch, parse_batch_topic, split_item
from ingest.checks import check_data, check_payload
from kernel.embedded import EmbeddedMosquitto
from kernel.mqtt import MqttConfig
from simulators.fleet import KIT, FleetClock, device_id, home_id
from simulators.load import create_rig_identity
from simulators.storm import HubLogin, StormResult, reconnect_storm

ROOT = "telecare"
T = 1_767_254_400.0  # 2026-01-01 08:00 UTC


def _run(fleet: FleetClock, seconds: float) -> list[tuple[str, bytes, int]]:
    out = []
    t = T
    while t < T + seconds:
        out += [(m.topic, m.payload, m.readings) for m in fleet.step(t, t + 0.5)]
        t += 0.5
    return out


def test_every_message_keeps_the_contract_and_each_seq_is_used_once() -> None:
    fleet = FleetClock(homes=50, topic_root=ROOT, readings_per_s=40, hour=8, alarm_every_s=5)
    seen: Counter[tuple[uuid.UUID, int]] = Counter()
    kinds: Counter[str] = Counter()
    for topic, payload, readings in _run(fleet, 120):
        if is_batch_topic(topic):
            batch = parse_batch_topic(topic, root=ROOT)
            assert batch.hub_id == device_id(list(map(home_id, range(50))).index(batch.home_id), len(KIT))
            items = parse_batch(payload)
            assert len(items) == readings
            for n, raw in enumerate(items):
                assert isinstance(raw, dict)
                item = split_item(n, raw)
                checked = check_data(item.kind, item.data)
                seen[(item.device_id, checked.seq)] += 1
                kinds[item.kind.value] += 1
        else:
            address = parse_topic(topic, root=ROOT)
            checked = check_payload(address.kind, payload)
            seen[(address.device_id, checked.seq)] += 1
            kinds[address.kind.value] += 1
    assert set(seen.values()) == {1}
    assert {"motion", "heartbeat", "temperature", "alarm", "contact"} <= set(kinds)


def test_the_rate_follows_the_residents_day_with_its_morning_peak() -> None:
    def readings(hour: int) -> int:
        fleet = FleetClock(homes=2000, topic_root=ROOT, readings_per_s=2000, hour=hour, heartbeat_s=1e9)
        fleet.hub_heartbeat_s = 1e9
        return sum(r for _, _, r in _run(fleet, 20))

    peak, afternoon, night = readings(8), readings(15), readings(3)
    assert 0.85 * 2000 * 20 < peak < 1.15 * 2000 * 20  # the configured rate is the peak's
    assert peak > 2 * afternoon > 10 * night


def test_every_device_is_heard_from_within_the_heartbeat_interval_on_average() -> None:
    fleet = FleetClock(homes=100, topic_root=ROOT, readings_per_s=0.001, heartbeat_s=60, hub_heartbeat_s=30)
    messages = _run(fleet, 120)
    hub_beats = sum(1 for topic, _, _ in messages if topic.endswith("/heartbeat"))
    kit_beats = sum(r for topic, _, r in messages if is_batch_topic(topic))
    assert abs(hub_beats - 100 * 120 / 30) <= 2
    assert abs(kit_beats - 100 * len(KIT) * 120 / 60) <= 2 * len(KIT)


def test_without_hubs_each_reading_goes_on_its_devices_own_topic() -> None:
    fleet = FleetClock(homes=10, topic_root=ROOT, readings_per_s=20, hour=8, batch=False)
    messages = _run(fleet, 30)
    assert messages and not any(is_batch_topic(topic) for topic, _, _ in messages)
    for topic, payload, _ in messages:
        check_payload(parse_topic(topic, root=ROOT).kind, payload)


async def test_a_reconnect_storm_brings_every_hub_back_with_its_presence(
    broker: EmbeddedMosquitto, admin_mqtt: MqttConfig, topic_root: str
) -> None:
    async with connect_admin(admin_mqtt) as admin:
        username = await create_rig_identity(admin, topic_root=topic_root, password="storm-pass")
    hubs = [
        HubLogin(
            f"hub-{uuid.uuid4().hex[:10]}",
            username,
            "storm-pass",
            f"{topic_root}/v1/{uuid.uuid4()}/{uuid.uuid4()}/presence",
        )
        for _ in range(200)
    ]
    hold, result = asyncio.Event(), StormResult()
    storm = asyncio.create_task(
        reconnect_storm("127.0.0.1", broker.port, hubs, within_s=1.0, hold=hold, result=result)
    )
    try:
        async with asyncio.timeout(30):
            while len(result.announced) + result.failed < len(hubs):
                await asyncio.sleep(0.1)
    finally:
        hold.set()
        await storm
    assert result.failed == 0, result.errors
    assert len(result.connected) == len(result.announced) == len(hubs)
    assert max(result.announced) - result.started < 10
