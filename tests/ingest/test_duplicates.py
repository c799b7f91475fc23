"""One stored reading per (device, seq), through the real broker, on both storage paths (finding 3).

The readings' own key includes the time, so on the old code the same seq sent with three timestamps was
stored three times. The sentinel published last on the same device is written after everything before
it (one lane per device, batches committed in order), so once it is stored the rest has been decided.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from devices.contract import MessageKind, message_topic
from kernel.db import create_pool
from kernel.embedded import EmbeddedMosquitto
from kernel.migrate import migrate
from kernel.mqtt import AsyncMqttClient, MqttConfig
from kernel.settings import Settings
from simulators.load import LoadDevice
from telecare.services import run_ingest
from tests.support import Rig, register_devices, rig_publisher, telecare_env, wait_until

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
SENTINEL = 999


@pytest.fixture(params=["postgres", "timescaledb"])
def storage_settings(request: pytest.FixtureRequest, settings: Settings) -> Settings:
    """The test's settings on the plain PostgreSQL path, or on a TimescaleDB database."""
    if request.param == "postgres":
        return settings
    url: str = request.getfixturevalue("ts_db_url")
    return settings.model_copy(update={"database_url": url})


@contextlib.asynccontextmanager
async def _rig(settings: Settings, broker: EmbeddedMosquitto, *, worker: bool) -> AsyncIterator[Rig]:
    pool = await create_pool(settings.database_url or "", min_size=1, max_size=4)
    subscribed = asyncio.Event()
    task = asyncio.create_task(run_ingest(settings, subscribed=subscribed)) if worker else None
    try:
        if task is not None:
            await asyncio.wait_for(subscribed.wait(), 30)
        else:
            async with pool.acquire() as conn:
                await migrate(conn)
        found = await register_devices(pool, settings, homes=1, per_home=1)
        yield Rig(pool, settings, await rig_publisher(settings, broker), found)
    finally:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await pool.close()


@pytest.fixture
async def pub_rig(storage_settings: Settings, broker: EmbeddedMosquitto) -> AsyncIterator[Rig]:
    """An in-process ingest worker on the chosen storage path, one registered device and a publisher."""
    async with _rig(storage_settings, broker, worker=True) as rig:
        yield rig


@pytest.fixture
async def registry(storage_settings: Settings, broker: EmbeddedMosquitto) -> AsyncIterator[Rig]:
    """The same without a worker: the test runs its own."""
    async with _rig(storage_settings, broker, worker=False) as rig:
        yield rig


def _motion(seq: int, at: datetime, detected: bool = True) -> bytes:
    return orjson.dumps({"ts": at.isoformat(), "seq": seq, "detected": detected})


async def _publish(config: MqttConfig, messages: list[tuple[str, bytes]]) -> None:
    client = AsyncMqttClient(replace(config, client_id=f"rig-{uuid.uuid4().hex[:8]}"))
    await client.connect()
    try:
        for topic, payload in messages:
            await client.publish(topic, payload)
    finally:
        await client.disconnect()


async def _stored_after_sentinel(rig: Rig, device: LoadDevice) -> list[tuple[int, datetime]]:
    await wait_until(
        rig.pool,
        "SELECT count(*) FROM readings WHERE device_id = $1 AND seq = $2",
        device.device_id,
        SENTINEL,
        at_least=1,
        timeout=60,
    )
    async with rig.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT seq, time FROM readings WHERE device_id = $1 AND seq <> $2 ORDER BY time",
            device.device_id,
            SENTINEL,
        )
    return [(r["seq"], r["time"]) for r in rows]


async def test_one_seq_published_four_times_with_three_timestamps_is_stored_once(pub_rig: Rig) -> None:
    device = pub_rig.devices[0]
    topic = message_topic(
        pub_rig.settings.mqtt_topic_root, device.home_id, device.device_id, MessageKind.MOTION
    )
    times = [T0, T0 + timedelta(seconds=5), T0, T0 + timedelta(seconds=9)]
    await _publish(pub_rig.publisher, [(topic, _motion(7, at)) for at in times])
    await _publish(pub_rig.publisher, [(topic, _motion(SENTINEL, T0 + timedelta(seconds=30)))])
    assert await _stored_after_sentinel(pub_rig, device) == [(7, T0)]
    async with pub_rig.pool.acquire() as conn:
        letters = await conn.fetch(
            "SELECT topic, payload, reason FROM dead_letters WHERE topic = $1 ORDER BY id", topic
        )
    # The re-stamped two are kept whole with the reason; the exact redelivery leaves no trace.
    assert [(r["topic"], bytes(r["payload"]), r["reason"]) for r in letters] == [
        (topic, _motion(7, times[1]), "seq_reused"),
        (topic, _motion(7, times[3]), "seq_reused"),
    ]


async def test_an_alarm_that_reuses_a_seq_is_stored_all_the_same(pub_rig: Rig) -> None:
    rig = pub_rig
    device = rig.devices[0]
    topic = message_topic(rig.settings.mqtt_topic_root, device.home_id, device.device_id, MessageKind.ALARM)
    first = orjson.dumps({"ts": T0.isoformat(), "seq": 3, "button": "pendant"})
    # A factory reset later: the counter starts again, and a real press must not be lost.
    after_reset = orjson.dumps({"ts": (T0 + timedelta(minutes=5)).isoformat(), "seq": 3})
    await _publish(
        rig.publisher, [(topic, first), (topic, after_reset), (topic, after_reset), (topic, first)]
    )
    # The sentinel is an alarm too: alarms have their own lane, written in order.
    sentinel = orjson.dumps({"ts": (T0 + timedelta(minutes=6)).isoformat(), "seq": SENTINEL})
    await _publish(rig.publisher, [(topic, sentinel)])
    assert await _stored_after_sentinel(rig, device) == [(3, T0), (3, T0 + timedelta(minutes=5))]
    async with rig.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM dead_letters WHERE topic = $1", topic) == 0


def _start_worker(settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    env = telecare_env(settings, TELECARE_INGEST_BATCH_MS="20", TELECARE_LOG_LEVEL="INFO")
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "telecare.cli", "ingest"], env=env, stdout=out, stderr=subprocess.STDOUT
        )


async def _wait_log(proc: subprocess.Popen[bytes], log: Path, text: str, times: int) -> None:
    async with asyncio.timeout(60):
        while (found := await asyncio.to_thread(log.read_text)).count(text) < times:
            assert proc.poll() is None, found
            await asyncio.sleep(0.05)


async def test_a_redelivery_after_a_worker_is_killed_is_still_stored_once(
    registry: Rig, tmp_path: Path
) -> None:
    """The memory of what was stored is the database's: a new process after SIGKILL keeps the contract."""
    rig = registry
    device = rig.devices[0]
    topic = message_topic(rig.settings.mqtt_topic_root, device.home_id, device.device_id, MessageKind.MOTION)
    # A persistent session: what is published while the worker is dead waits for it in the broker.
    settings = rig.settings.model_copy(update={"mqtt_client_id": f"ingest-{uuid.uuid4().hex[:8]}"})
    log = tmp_path / "worker.log"
    proc = _start_worker(settings, log)
    try:
        await _wait_log(proc, log, "subscribed to", 1)
        await _publish(rig.publisher, [(topic, _motion(7, T0))])
        await wait_until(rig.pool, "SELECT count(*) FROM readings WHERE seq = 7", at_least=1, timeout=60)
        proc.kill()
        proc.wait()
        await _publish(
            rig.publisher, [(topic, _motion(7, T0)), (topic, _motion(7, T0 + timedelta(seconds=4)))]
        )
        proc = _start_worker(settings, log)
        await _wait_log(proc, log, "subscribed to", 2)
        await _publish(rig.publisher, [(topic, _motion(SENTINEL, T0 + timedelta(seconds=30)))])
        try:
            stored = await _stored_after_sentinel(rig, device)
        except TimeoutError:
            pytest.fail(f"the sentinel was not stored; the worker's log:\n{log.read_text()}")
        assert stored == [(7, T0)]
        async with rig.pool.acquire() as conn:
            # Only this topic's: the worker also sees the registry's retained commands (bad_topic).
            letters = await conn.fetch("SELECT reason FROM dead_letters WHERE topic = $1", topic)
            reasons = [r["reason"] for r in letters]
        assert reasons == ["seq_reused"]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
