"""Through the real broker, ingest and database: a pendant press becomes a stored critical alert, and a
home that falls silent becomes an inactivity alert. (How fast is measured by `make bench`, not here.)"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import orjson

from devices import service as devices
from devices.dynsec import connect_admin
from kernel.connect import mqtt_config
from kernel.mqtt import AsyncMqttClient
from telecare.services import run_detector
from tests.support import Rig, wait_until


def _daytime_zone() -> str:
    """A time zone in which it is between 10:00 and 19:00 now."""
    zones = ("Europe/London", "Asia/Tokyo", "America/New_York", "Asia/Kolkata", "America/Los_Angeles")
    return next(z for z in zones if 10 <= datetime.now(ZoneInfo(z)).hour < 19)


async def test_a_pendant_press_and_a_silent_home_become_alerts(rig: Rig) -> None:
    settings = rig.settings.model_copy(
        update={"detector_default_inactivity_s": 2.0, "detector_tick_s": 0.2, "detector_poll_ms": 50}
    )
    home = rig.devices[0].home_id
    async with connect_admin(mqtt_config(settings, client_id=f"adm-{uuid.uuid4().hex[:6]}")) as admin:
        pendant = await devices.register_device(
            rig.pool, admin, topic_root=settings.mqtt_topic_root, home_id=home, device_type="pendant"
        )
        # A bed sensor in the quiet home: without one, a quiet night would be inferred sleep.
        await devices.register_device(
            rig.pool,
            admin,
            topic_root=settings.mqtt_topic_root,
            home_id=rig.devices[2].home_id,
            device_type="bed_sensor",
            room="bedroom",
        )
    async with rig.pool.acquire() as conn:
        # The silent home in a zone where it is day now: a quiet night would be inferred sleep.
        await conn.execute(
            "UPDATE homes SET timezone = $2 WHERE id = $1", rig.devices[2].home_id, _daytime_zone()
        )
    ready = asyncio.Event()
    detector = asyncio.create_task(run_detector(settings, ready=ready))
    client = AsyncMqttClient(rig.publisher)
    await client.connect()
    try:
        await asyncio.wait_for(ready.wait(), 15)
        root = f"{settings.mqtt_topic_root}/v1/{home}"
        now = datetime.now(UTC).isoformat()
        await client.publish(f"{root}/{pendant.device_id}/alarm", orjson.dumps({"ts": now, "seq": 1}))
        quiet_home, sensor = rig.devices[2].home_id, rig.devices[2].device_id
        motion = orjson.dumps({"ts": now, "seq": 1, "detected": True})
        await client.publish(f"{settings.mqtt_topic_root}/v1/{quiet_home}/{sensor}/motion", motion)

        alarms = "SELECT count(*) FROM alerts WHERE kind = 'alarm_pressed'"
        await wait_until(rig.pool, alarms, at_least=1, timeout=60)
        async with rig.pool.acquire() as conn:
            alarm = await conn.fetchrow(
                """
                SELECT a.severity, a.home_id FROM alerts a
                JOIN readings r ON r.device_id = a.device_id AND r.kind = 'alarm'
                WHERE a.kind = 'alarm_pressed'
                """
            )
        assert alarm["severity"] == "critical" and alarm["home_id"] == home

        quiet_alerts = "SELECT count(*) FROM alerts WHERE kind = 'inactivity'"
        await wait_until(rig.pool, quiet_alerts, at_least=1, timeout=60)
        async with rig.pool.acquire() as conn:
            quiet = await conn.fetchrow("SELECT home_id, explanation FROM alerts WHERE kind = 'inactivity'")
        assert quiet["home_id"] == quiet_home
        assert "No movement in the home since" in quiet["explanation"]
        assert "cautious default" in quiet["explanation"]
    finally:
        await client.disconnect()
        detector.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await detector
