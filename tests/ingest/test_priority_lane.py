"""The priority lane through the real broker and database: its own session, its own process (issue 11)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
from datetime import UTC, datetime

import asyncpg
import orjson

from ingest.priority import lane_client_id, run_priority_lane
from ingest.service import subscriptions
from kernel.mqtt import AsyncMqttClient, MqttConfig
from simulators.load import LoadDevice
from tests.ingest import test_faults
from tests.ingest.test_faults import Stack

# The fault tests' private servers and registered devices.
stack = test_faults.stack
devices = test_faults.devices
LISTENING = "priority lane listening"


async def _publish_alarm(stack: Stack, publisher: MqttConfig, device: LoadDevice, seq: int) -> None:
    topic = f"{stack.settings.mqtt_topic_root}/v1/{device.home_id}/{device.device_id}/alarm"
    body = orjson.dumps({"ts": datetime.now(UTC).isoformat(), "seq": seq, "button": "pendant"})
    client = AsyncMqttClient(publisher)
    await client.connect()
    try:
        await client.publish(topic, body, qos=1)
    finally:
        await client.disconnect()


async def _alarms(stack: Stack, device: LoadDevice) -> tuple[int, int, int]:
    """Alarm rows of the device, batch-log entries naming it (the detector's hand-off), health rows."""
    conn = await asyncpg.connect(stack.postgres.dsn())
    try:
        row = await conn.fetchrow(
            """
            SELECT (SELECT count(*) FROM readings WHERE device_id = $1 AND kind = 'alarm') AS readings,
                   (SELECT count(*) FROM ingest_batches WHERE $1 = ANY(device_ids)) AS batches,
                   (SELECT count(*) FROM device_health WHERE device_id = $1 AND online) AS health
            """,
            device.device_id,
        )
        assert row is not None
        return int(row["readings"]), int(row["batches"]), int(row["health"])
    finally:
        await conn.close()


async def _wait_alarm_stored(stack: Stack, device: LoadDevice, timeout: float = 60) -> None:
    async with asyncio.timeout(timeout):
        while True:
            with contextlib.suppress(OSError, asyncpg.PostgresError):
                if (await _alarms(stack, device))[0] >= 1:
                    return
            await asyncio.sleep(0.1)


def _log(stack: Stack, client_id: str) -> str:
    return (stack.root / f"{client_id}.log").read_text()


async def _wait_log(stack: Stack, client_id: str, text: str, timeout: float = 60, after: int = 0) -> str:
    """The worker's log once `text` is in it (past its first `after` characters)."""
    async with asyncio.timeout(timeout):
        while text not in (log := _log(stack, client_id))[after:]:
            await asyncio.sleep(0.05)
    return log


def _lane_pid(log: str) -> int:
    found = re.findall(r"priority lane started \(pid (\d+)\)", log)
    assert found, log
    return int(found[-1])


async def test_an_alarm_is_stored_while_the_main_worker_cannot_run(
    stack: Stack, devices: tuple[list[LoadDevice], MqttConfig]
) -> None:
    """The main worker's process is stopped (SIGSTOP): its event loop, socket and session hold nothing
    up for the alarm, which the lane stores, logs for the detector and counts in device health."""
    found, publisher = devices
    stack.start_worker("w1")
    await stack.wait_subscribed("w1")
    await _wait_log(stack, "w1", LISTENING)
    main = stack.workers["w1"]
    main.send_signal(signal.SIGSTOP)
    try:
        await _publish_alarm(stack, publisher, found[0], seq=1)
        await _wait_alarm_stored(stack, found[0])
        assert await _alarms(stack, found[0]) == (1, 1, 1)
    finally:
        main.send_signal(signal.SIGCONT)
    # The main worker now takes its own copy of the alarm: the database keeps one row.
    await _publish_alarm(stack, publisher, found[0], seq=2)
    async with asyncio.timeout(60):
        while (await _alarms(stack, found[0]))[0] < 2:
            await asyncio.sleep(0.1)
    assert (await _alarms(stack, found[0]))[:2] == (2, 2)


async def test_a_lane_killed_before_its_commit_loses_nothing(
    stack: Stack, devices: tuple[list[LoadDevice], MqttConfig]
) -> None:
    """The lane holds an alarm it cannot commit (database down) and is SIGKILLed: it had not
    acknowledged it, so its session gives it to the lane again, which stores it once."""
    found, publisher = devices
    stack.start_worker("w1")
    await stack.wait_subscribed("w1")
    lane = _lane_pid(await _wait_log(stack, "w1", LISTENING))
    # Only the lane may take the alarm: the main worker is stopped for good (killed below), and
    # stopped first, so whatever the log says from here on is the lane's.
    stack.workers["w1"].send_signal(signal.SIGSTOP)
    await asyncio.to_thread(stack.postgres.stop)
    before = len(_log(stack, "w1"))
    await _publish_alarm(stack, publisher, found[0], seq=1)
    # Held while storing it, or while looking its device up (the lane's registry entry may have
    # expired on a slow machine): unacknowledged either way.
    await _wait_log(stack, "w1", "database unavailable while", after=before)
    os.kill(lane, signal.SIGKILL)
    stack.kill("w1")
    await asyncio.to_thread(stack.postgres.start)
    listening = asyncio.Event()
    again = asyncio.create_task(
        run_priority_lane(stack.settings.model_copy(update={"mqtt_client_id": "w1"}), listening=listening)
    )
    try:
        await _wait_alarm_stored(stack, found[0])
        await asyncio.sleep(1)  # a second copy would have come by now
        assert (await _alarms(stack, found[0]))[:2] == (1, 1)
    finally:
        again.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await again


def test_the_lane_subscribes_to_the_priority_kinds_on_its_own_session() -> None:
    """Plain and shared subscriptions of the main worker and of the lane; the lane's client id."""
    kinds = ["alarm", "fall", "smoke", "water_leak"]
    assert subscriptions("r", shared=False, priority_only=False) == ["r/v1/+/+/+"]
    assert subscriptions("r", shared=True, priority_only=False) == ["$share/telecare-ingest/r/v1/+/+/+"]
    assert subscriptions("r", shared=False, priority_only=True) == [f"r/v1/+/+/{k}" for k in kinds]
    assert subscriptions("r", shared=True, priority_only=True) == [
        f"$share/telecare-ingest-priority/r/v1/+/+/{k}" for k in kinds
    ]
    assert lane_client_id("w1") == "w1-priority"
    assert len(lane_client_id("x" * 64)) <= 64
