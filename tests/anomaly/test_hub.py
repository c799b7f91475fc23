"""A home hub's link down: one alert for the home, and no data is not taken for no movement."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import UTC, datetime

import orjson

from devices import service as devices
from devices.contract import MessageKind, message_topic
from devices.dynsec import connect_admin
from kernel.connect import mqtt_config
from kernel.mqtt import AsyncMqttClient, MqttConfig, Will
from telecare.services import run_detector
from tests.anomaly.streams import KIT, Home, at, cleared, raised
from tests.support import Rig, wait_until


def _hub_home() -> Home:
    return Home(kit={**KIT, "hub": ("hub", "hallway")})


def _quiet_day_until(home: Home, hhmm: str) -> None:
    """Up at 08:00 and moving about the kitchen until `hhmm`, then nothing."""
    home.send("bed", "occupancy", at(2, "07:59"), occupied=False)
    t, end = at(2, "08:00"), at(2, hhmm)
    while t <= end:
        home.motion("kitchen", t)
        t += 600


def test_the_hub_offline_is_one_alert_naming_the_devices_behind_it_and_clears_when_back() -> None:
    home = _hub_home()
    _quiet_day_until(home, "14:00")
    home.health("hub", "offline", at(2, "14:02"), reason="disconnected")
    assert raised(home.tick(at(2, "14:03"), at(2, "14:10")), "hub_offline") == []  # within the grace
    out = home.tick(at(2, "14:11"), at(2, "20:00"))
    [alert] = raised(out, "hub_offline")
    assert alert.signal.severity == "high"
    assert alert.signal.explanation.startswith("The home hub is offline since 14:02")
    assert f"; {len(KIT)} devices behind it" in alert.signal.explanation
    assert alert.signal.device_id == home.ids["hub"]
    # Six hours without a reading while the hub is down: no inactivity, no device offline alert.
    assert {a.signal.kind for a in raised(out)} == {"hub_offline"}
    [back] = cleared(home.health("hub", "online", at(2, "20:05")), "hub_offline")
    assert back.note.startswith("the home hub is back online at 20:05 after ")


def test_the_same_silence_with_the_hub_online_is_an_inactivity_alert() -> None:
    home = _hub_home()
    _quiet_day_until(home, "14:00")
    assert raised(home.tick(at(2, "14:11"), at(2, "20:00")), "inactivity")


def test_an_ordinary_devices_offline_is_still_its_own_alert() -> None:
    home = _hub_home()
    home.health("pendant", "offline", at(2, "09:00"), reason="disconnected")
    assert raised(home.tick(at(2, "09:00"), at(2, "09:20")), "device_offline")
    assert raised(home.actions, "hub_offline") == []


async def test_a_hubs_last_will_becomes_one_hub_offline_alert(rig: Rig) -> None:
    settings = rig.settings.model_copy(
        update={"detector_offline_grace_s": 1.0, "detector_tick_s": 0.2, "detector_poll_ms": 50}
    )
    home = rig.devices[0].home_id
    root = settings.mqtt_topic_root
    async with connect_admin(mqtt_config(settings, client_id=f"adm-{uuid.uuid4().hex[:6]}")) as admin:
        hub = await devices.register_device(rig.pool, admin, topic_root=root, home_id=home, device_type="hub")
    presence = message_topic(root, home, hub.device_id, MessageKind.PRESENCE)
    now = datetime.now(UTC).isoformat()
    client = AsyncMqttClient(
        MqttConfig(
            host="127.0.0.1",
            port=rig.publisher.port,
            client_id=hub.client_id,
            username=hub.username,
            password=hub.password,
        ),
        will=Will(presence, orjson.dumps({"ts": now, "seq": 2, "state": "offline"})),
    )
    ready = asyncio.Event()
    detector = asyncio.create_task(run_detector(settings, ready=ready))
    try:
        await asyncio.wait_for(ready.wait(), 15)
        await client.connect()
        await client.publish(presence, orjson.dumps({"ts": now, "seq": 1, "state": "online"}), retain=True)
        await wait_until(rig.pool, "SELECT count(*) FROM device_health WHERE online", at_least=1)
        await client.disconnect(send_will=True)  # the link drops: the broker publishes the will
        await wait_until(
            rig.pool, "SELECT count(*) FROM alerts WHERE kind = 'hub_offline'", at_least=1, timeout=60
        )
        async with rig.pool.acquire() as conn:
            alerts = await conn.fetch("SELECT home_id, kind, explanation FROM alerts")
    finally:
        detector.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await detector
    [alert] = alerts
    assert (alert["home_id"], alert["kind"]) == (home, "hub_offline")
    assert "; 2 devices behind it" in alert["explanation"]  # the home's two motion sensors
