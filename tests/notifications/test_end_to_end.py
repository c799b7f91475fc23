"""Through the real broker, ingest, detector, SMTP server and API: a pendant press reaches the first family
member's inbox with a link that acknowledges the alert (no login), and the chain stops there."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import UTC, datetime

import httpx
import orjson

from devices import service as devices
from devices.dynsec import connect_admin
from kernel.connect import mqtt_config
from kernel.mqtt import AsyncMqttClient
from kernel.settings import Settings
from notifications.channels.webpush import new_vapid_pem
from notifications.clock import ManualClock
from notifications.process import build_dispatcher
from telecare.services import run_detector
from tests.api.world import running_app
from tests.notifications.support import (
    HttpReceiver,
    SmtpSink,
    ack_token,
    build_people,
    set_policy,
    three_steps,
)
from tests.support import Rig


async def test_a_pendant_press_reaches_the_family_and_the_link_acknowledges_it(
    rig: Rig, notify_settings: Settings, sinks: tuple[SmtpSink, HttpReceiver]
) -> None:
    smtp, http = sinks
    settings = notify_settings.model_copy(
        update={
            "detector_poll_ms": 50,
            "detector_tick_s": 0.2,
            "mqtt_topic_root": rig.settings.mqtt_topic_root,
        }
    )
    home = rig.devices[0].home_id
    async with connect_admin(mqtt_config(settings, client_id=f"adm-{uuid.uuid4().hex[:6]}")) as admin:
        pendant = await devices.register_device(
            rig.pool, admin, topic_root=settings.mqtt_topic_root, home_id=home, device_type="pendant"
        )
    async with rig.pool.acquire() as conn:
        people = await build_people(conn, webhook_url=http.url, home=home)
        await set_policy(conn, org=people.org, home=home, policy=three_steps(people, wait_s=120))
    clock = ManualClock(datetime.now(UTC))
    ready = asyncio.Event()
    detector = asyncio.create_task(run_detector(settings, ready=ready))
    client = AsyncMqttClient(rig.publisher)
    async with httpx.AsyncClient() as outbound:
        dispatcher = build_dispatcher(rig.pool, settings, outbound, new_vapid_pem(), clock=clock)
        sending = asyncio.create_task(dispatcher.run())
        await client.connect()
        try:
            await asyncio.wait_for(ready.wait(), 30)
            await asyncio.wait_for(dispatcher.ready.wait(), 30)
            topic = f"{settings.mqtt_topic_root}/v1/{home}/{pendant.device_id}/alarm"
            await client.publish(topic, orjson.dumps({"ts": datetime.now(UTC).isoformat(), "seq": 1}))
            mail = (await smtp.wait_for(people.emails["daughter"], timeout=60))[0]
            assert smtp.to(people.emails["son"]) == []
            clock.advance(121)  # nobody acknowledged: the son's step comes after its wait
            dispatcher.wake()
            await smtp.wait_for(people.emails["son"], timeout=30)

            async with running_app(settings) as (_, api):
                page = await api.get(f"/v1/notifications/ack/{ack_token(mail)}")
                assert page.status_code == 200 and "<form" in page.text
                done = await api.post(
                    f"/v1/notifications/ack/{ack_token(mail)}", headers={"Accept": "application/json"}
                )
                assert done.status_code == 200, done.text
                again = await api.post(f"/v1/notifications/ack/{ack_token(mail)}")
                assert again.status_code == 404
            alert_id = uuid.UUID(done.json()["alert_id"])
            clock.advance(121)
            dispatcher.wake()
            await asyncio.sleep(1)
            assert smtp.to(people.emails["coordinator"]) == []  # the chain stopped at the acknowledgement
        finally:
            await client.disconnect()
            for task in (sending, detector):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
    async with rig.pool.acquire() as conn:
        history = await conn.fetch(
            "SELECT action, actor_id FROM alert_events WHERE alert_id = $1 ORDER BY id", alert_id
        )
        chain = await conn.fetchrow(
            "SELECT state, stop_reason FROM notification_chains WHERE alert_id = $1", alert_id
        )
    assert [h["action"] for h in history][-1] == "acknowledged" and history[-1]["actor_id"] == people.family1
    assert (chain["state"], chain["stop_reason"]) == ("stopped", "acknowledged")
