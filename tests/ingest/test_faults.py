"""Fault tests with real processes: every published reading is stored exactly once, whatever breaks."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import orjson
import pytest

from devices.contract import MessageKind, message_topic
from kernel.db import create_pool
from kernel.embedded import EmbeddedMosquitto, EmbeddedPostgres
from kernel.embedded.mosquitto import ADMIN_USER
from kernel.embedded.process import free_port
from kernel.migrate import migrate
from kernel.mqtt import AsyncMqttClient, MqttConfig
from kernel.settings import Settings
from simulators.load import LoadDevice, LoadResult, publish_load
from tests.support import register_devices, rig_publisher

TOTAL = 3000
RATE = 600.0


@dataclass
class Stack:
    """Private PostgreSQL and Mosquitto for one fault test, and worker processes against them."""

    root: Path
    postgres: EmbeddedPostgres
    broker: EmbeddedMosquitto
    settings: Settings
    workers: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start_worker(self, client_id: str, *, shared: bool = False) -> None:
        """Start `telecare ingest` as its own process, with a persistent MQTT session under client_id."""
        env = {
            **os.environ,
            "TELECARE_DATABASE_URL": self.postgres.dsn(),
            "TELECARE_MQTT_URL": self.broker.url,
            "TELECARE_MQTT_USERNAME": ADMIN_USER,
            "TELECARE_MQTT_PASSWORD": self.broker.admin_password,
            "TELECARE_MQTT_TOPIC_ROOT": self.settings.mqtt_topic_root,
            "TELECARE_MQTT_CLIENT_ID": client_id,
            "TELECARE_INGEST_BATCH_MS": "20",
            "TELECARE_INGEST_SHARED_SUBSCRIPTION": "true" if shared else "false",
        }
        log = open(self.root / f"{client_id}.log", "ab")  # noqa: SIM115 - the child owns it
        self.workers[client_id] = subprocess.Popen(
            [sys.executable, "-m", "telecare.cli", "ingest"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        log.close()

    async def wait_subscribed(self, client_id: str, times: int = 1) -> None:
        """Wait until the worker has said `times` times that it subscribed (a busy machine starts slowly)."""
        async with asyncio.timeout(120):
            while (self.root / f"{client_id}.log").read_text().count("subscribed to") < times:
                assert self.workers[client_id].poll() is None, (self.root / f"{client_id}.log").read_text()
                await asyncio.sleep(0.05)

    def kill(self, client_id: str) -> None:
        """SIGKILL a worker: no clean shutdown, no last acknowledgements."""
        proc = self.workers.pop(client_id)
        proc.send_signal(signal.SIGKILL)
        proc.wait()

    def stop_all(self) -> None:
        """Stop every worker."""
        for proc in self.workers.values():
            proc.terminate()
        for proc in self.workers.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.workers.clear()


@pytest.fixture
def stack(work_dir: Path) -> Iterator[Stack]:
    root = work_dir / f"faults-{uuid.uuid4().hex[:8]}"
    root.mkdir()
    os.chmod(root, 0o755)
    postgres = EmbeddedPostgres(root / "pg", free_port(), preload_timescaledb=False, fast_unsafe=True)
    broker = EmbeddedMosquitto(root / "mqtt", free_port())
    postgres.start()
    broker.start()
    settings = Settings(
        _env_file=None,
        database_url=postgres.dsn(),
        mqtt_url=broker.url,
        mqtt_username=ADMIN_USER,
        mqtt_password=broker.admin_password,
        mqtt_topic_root=f"f{uuid.uuid4().hex[:8]}/telecare",
    )
    stack = Stack(root, postgres, broker, settings)
    try:
        yield stack
    finally:
        stack.stop_all()
        broker.stop()
        postgres.stop()


@pytest.fixture
async def devices(stack: Stack) -> AsyncIterator[tuple[list[LoadDevice], MqttConfig]]:
    conn = await asyncpg.connect(stack.postgres.dsn())
    try:
        await migrate(conn)
    finally:
        await conn.close()
    pool = await create_pool(stack.postgres.dsn(), min_size=1, max_size=2)
    try:
        found = await register_devices(pool, stack.settings, homes=5, per_home=4)
    finally:
        await pool.close()
    yield found, await rig_publisher(stack.settings, stack.broker)


def _load(stack: Stack, found: list[LoadDevice], publisher: MqttConfig) -> asyncio.Task[LoadResult]:
    return asyncio.create_task(
        publish_load(
            publisher,
            found,
            topic_root=stack.settings.mqtt_topic_root,
            total=TOTAL,
            rate_per_s=RATE,
            ack_timeout_s=60,  # a broker restarted under load takes a while to answer again
        )
    )


async def _stored(stack: Stack) -> tuple[int, int]:
    conn = await asyncpg.connect(stack.postgres.dsn())
    try:
        row = await conn.fetchrow(
            "SELECT count(*) AS n, count(DISTINCT (device_id, seq)) AS distinct_n"
            " FROM readings WHERE kind = 'motion'"
        )
        assert row is not None
        return int(row["n"]), int(row["distinct_n"])
    finally:
        await conn.close()


async def _all_stored_once(stack: Stack, load: LoadResult, timeout: float = 180) -> None:
    assert len(load.acked) == TOTAL
    n = -1
    try:
        async with asyncio.timeout(timeout):
            while n < TOTAL:
                try:
                    n, _ = await _stored(stack)
                except (OSError, asyncpg.PostgresError):
                    n = -1
                await asyncio.sleep(0.2)
    except TimeoutError:
        logs = {name: (stack.root / f"{name}.log").read_text()[-3000:] for name in stack.workers}
        raise AssertionError(f"{n} of {TOTAL} stored after {timeout:.0f} s; worker logs: {logs}") from None
    await asyncio.sleep(1)  # anything extra would have arrived by now
    assert await _stored(stack) == (TOTAL, TOTAL)


async def _midstream(stack: Stack, load: asyncio.Task[LoadResult]) -> None:
    """Return once a third of the readings are stored (the fault then lands mid-stream, however busy)."""
    async with asyncio.timeout(120):
        while (stored := (await _stored(stack))[0]) < TOTAL // 3:
            for name, proc in stack.workers.items():
                assert proc.poll() is None, (stack.root / f"{name}.log").read_text()[-3000:]
            assert not load.done() or len(load.result().acked) == TOTAL, "the load failed"
            await asyncio.sleep(0.05)
    # The publisher is paced, so two thirds of the readings are still to come.
    assert stored < TOTAL


async def test_worker_killed_and_restarted(
    stack: Stack, devices: tuple[list[LoadDevice], MqttConfig]
) -> None:
    stack.start_worker("w1")
    await stack.wait_subscribed("w1")
    load = _load(stack, *devices)
    await _midstream(stack, load)
    stack.kill("w1")
    await asyncio.sleep(1)
    stack.start_worker("w1")
    await _all_stored_once(stack, await load)


async def test_database_stopped_for_ten_seconds(
    stack: Stack, devices: tuple[list[LoadDevice], MqttConfig]
) -> None:
    stack.start_worker("w1")
    await stack.wait_subscribed("w1")
    load = _load(stack, *devices)
    await _midstream(stack, load)
    await asyncio.to_thread(stack.postgres.stop)
    await asyncio.sleep(10)
    await asyncio.to_thread(stack.postgres.start)
    await _all_stored_once(stack, await load)
    assert stack.workers["w1"].poll() is None, "the worker must survive the outage"
    assert "database unavailable" in (stack.root / "w1.log").read_text()


async def test_broker_restarted(stack: Stack, devices: tuple[list[LoadDevice], MqttConfig]) -> None:
    stack.start_worker("w1")
    await stack.wait_subscribed("w1")
    load = _load(stack, *devices)
    await _midstream(stack, load)
    await asyncio.to_thread(stack.broker.stop)
    await asyncio.sleep(1)
    await asyncio.to_thread(stack.broker.start)
    await _all_stored_once(stack, await load)
    assert stack.workers["w1"].poll() is None


async def test_two_workers_share_the_load_and_one_is_killed(
    stack: Stack, devices: tuple[list[LoadDevice], MqttConfig]
) -> None:
    for name in ("w1", "w2"):
        stack.start_worker(name, shared=True)
        await stack.wait_subscribed(name)
    load = _load(stack, *devices)
    await _midstream(stack, load)
    stack.kill("w2")
    await asyncio.sleep(2)
    # Mosquitto keeps routing w2's share to its session while it is away; it gets them on return.
    stack.start_worker("w2", shared=True)
    await _all_stored_once(stack, await load)
    logs = [(stack.root / f"{n}.log").read_text() for n in ("w1", "w2")]
    assert all("$share/" in text for text in logs)


async def _until(condition: Callable[[], Awaitable[bool]], timeout: float = 60) -> None:
    async with asyncio.timeout(timeout):
        while not await condition():
            await asyncio.sleep(0.1)


async def _heartbeats(stack: Stack, found: list[LoadDevice], publisher: MqttConfig) -> None:
    client = AsyncMqttClient(replace(publisher, client_id=f"hb-{uuid.uuid4().hex[:8]}"))
    await client.connect()
    try:
        for device in found:
            topic = message_topic(
                stack.settings.mqtt_topic_root, device.home_id, device.device_id, MessageKind.HEARTBEAT
            )
            await client.publish(topic, orjson.dumps({"ts": datetime.now(UTC).isoformat(), "seq": 10**9}))
    finally:
        await client.disconnect()


async def test_a_database_outage_leaves_no_connection_misuse_in_the_log(
    stack: Stack, devices: tuple[list[LoadDevice], MqttConfig]
) -> None:
    """PostgreSQL goes away under the writers' connections (finding 9).

    asyncpg hands a lost connection back to the pool by itself; a writer that went on using (and then
    terminating) the proxy it kept logged "cannot call Connection.terminate(): connection has been
    released back to the pool" instead of the outage itself.
    """
    log = stack.root / "w1.log"
    stack.start_worker("w1")
    await stack.wait_subscribed("w1")
    load = _load(stack, *devices)

    async def some_stored() -> bool:
        return (await _stored(stack))[0] >= TOTAL // 10

    async def outage_noticed() -> bool:
        return "database unavailable" in await asyncio.to_thread(log.read_text)

    await _until(some_stored)  # every writer has its connection by now
    await asyncio.to_thread(stack.postgres.stop)
    # Whether or not the load is still going, give every writer something to store during the outage.
    await _heartbeats(stack, *devices)
    await _until(outage_noticed)
    await asyncio.to_thread(stack.postgres.start)
    await _all_stored_once(stack, await load)
    text = await asyncio.to_thread(log.read_text)
    assert stack.workers["w1"].poll() is None, text
    assert "released back to the pool" not in text, text
    assert "another operation" not in text, text
