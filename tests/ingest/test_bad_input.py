"""Bad input through the real broker is kept as dead letters; good input in the same stream is stored."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import orjson

from devices.contract import MessageKind, message_topic
from kernel.mqtt import AsyncMqttClient
from tests.support import Rig, wait_until


def _ts(delta: timedelta = timedelta(0)) -> str:
    return (datetime.now(UTC) + delta).isoformat()


async def test_bad_messages_become_dead_letters_and_good_ones_are_stored(rig: Rig) -> None:
    root = rig.settings.mqtt_topic_root
    device = rig.devices[0]
    motion = message_topic(root, device.home_id, device.device_id, MessageKind.MOTION)
    other_home = rig.devices[2].home_id
    bad = [
        (motion, b'{"ts": "2026-01-01T00:00:00Z", "seq": ', "invalid_json"),
        (motion, orjson.dumps({"ts": _ts(), "seq": "seven", "detected": True}), "wrong_type"),
        (motion, orjson.dumps({"ts": _ts(), "seq": 5}), "missing_field"),
        (
            message_topic(root, device.home_id, uuid.uuid4(), MessageKind.MOTION),
            orjson.dumps({"ts": _ts(), "seq": 1, "detected": True}),
            "unknown_device",
        ),
        (
            message_topic(root, other_home, device.device_id, MessageKind.MOTION),
            orjson.dumps({"ts": _ts(), "seq": 1, "detected": True}),
            "home_mismatch",
        ),
        (motion, b"{" + b" " * 1_000_000 + b"}", "too_large"),
        (motion, bytes(range(256)) * 8, "not_utf8"),
        (f"{root}/v1/{device.home_id}/{device.device_id}/teleport", b"{}", "unknown_kind"),
        (f"{root}/v1/not-a-uuid/{device.device_id}/motion", b"{}", "bad_topic"),
    ]
    good = [
        orjson.dumps({"ts": _ts(), "seq": 100, "detected": True}),
        orjson.dumps({"ts": _ts(timedelta(minutes=-50)), "seq": 101, "detected": True}),  # late
        orjson.dumps({"ts": _ts(timedelta(minutes=-90)), "seq": 102, "detected": False}),  # out of order
        orjson.dumps({"ts": _ts(timedelta(days=2)), "seq": 103, "detected": True}),  # clock far ahead
    ]
    client = AsyncMqttClient(rig.publisher)
    await client.connect()
    try:
        for i, (topic, payload, _) in enumerate(bad):
            await client.publish(topic, payload)
            await client.publish(motion, good[i % len(good)])  # interleaved with valid readings
        await client.publish(motion, good[0])  # the same message again: still one row
    finally:
        await client.disconnect()
    await wait_until(rig.pool, "SELECT count(*) FROM dead_letters", at_least=len(bad))
    await wait_until(
        rig.pool, "SELECT count(*) FROM readings WHERE device_id = $1", device.device_id, at_least=4
    )
    await asyncio.sleep(0.3)
    async with rig.pool.acquire() as conn:
        letters = await conn.fetch("SELECT topic, payload, reason, detail FROM dead_letters ORDER BY id")
        readings = await conn.fetch(
            "SELECT seq, time, clock_suspect FROM readings WHERE device_id = $1 AND kind = 'motion'"
            " ORDER BY seq",
            device.device_id,
        )
    assert [r["reason"] for r in letters] == [reason for _, _, reason in bad]
    assert all(r["detail"] for r in letters)
    assert [bytes(r["payload"]) for r in letters] == [payload for _, payload, _ in bad]
    assert [r["seq"] for r in readings] == [100, 101, 102, 103]
    assert [r["clock_suspect"] for r in readings] == [False, False, False, True]
    assert readings[2]["time"] < readings[1]["time"] < readings[0]["time"]


async def test_text_postgresql_cannot_store_is_refused_with_the_contracts_reason(rig: Rig) -> None:
    """A NUL in a key (or in a value) is a contract violation, not a storage error (finding 8)."""
    root = rig.settings.mqtt_topic_root
    device = rig.devices[0]
    motion = message_topic(root, device.home_id, device.device_id, MessageKind.MOTION)
    tag = message_topic(root, device.home_id, device.device_id, MessageKind.TAG)
    ts = _ts()
    bad = [
        (motion, b'{"ts": "%s", "seq": 1, "detected": true, "a\\u0000b": 1}' % ts.encode(), "unknown_field"),
        (motion, b'{"ts": "%s", "seq": 2, "detected": {"\\u0000": "\\u0000"}}' % ts.encode(), "wrong_type"),
        (tag, b'{"ts": "%s", "seq": 3, "tag_id": "04\\u0000A2"}' % ts.encode(), "out_of_range"),
        (tag, b'{"ts": "%s", "seq": 4, "tag_id": "04\\u0085A2"}' % ts.encode(), "out_of_range"),
    ]
    client = AsyncMqttClient(rig.publisher)
    await client.connect()
    try:
        for topic, payload, _ in bad:
            await client.publish(topic, payload)
    finally:
        await client.disconnect()
    decided = "SELECT (SELECT count(*) FROM dead_letters) + (SELECT count(*) FROM readings)"
    await wait_until(rig.pool, decided, at_least=len(bad))
    async with rig.pool.acquire() as conn:
        letters = await conn.fetch("SELECT payload, reason, detail FROM dead_letters ORDER BY id")
    assert [(bytes(r["payload"]), r["reason"]) for r in letters] == [(p, reason) for _, p, reason in bad]
    assert "a\\x00b" in letters[0]["detail"]
