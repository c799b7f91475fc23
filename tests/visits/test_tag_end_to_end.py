"""A carer's tag tapped on the home's door reader, through the real broker and ingest, checks them in."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import orjson

from accounts import service as accounts
from accounts.tenancy import Role
from devices import service as devices
from devices.contract import MessageKind, message_topic
from devices.dynsec import connect_admin
from kernel.connect import mqtt_config
from kernel.mqtt import AsyncMqttClient
from tests.support import Rig, wait_until
from visits import queries, tag_queries


async def test_a_tap_through_the_broker_checks_the_carer_in(rig: Rig) -> None:
    home = rig.devices[0].home_id
    now = datetime.now(UTC).replace(microsecond=0)
    async with rig.pool.acquire() as conn:
        org = await conn.fetchval("SELECT organisation_id FROM homes WHERE id = $1", home)
        carer = await accounts.create_user(
            conn, email="sam@carers.example", name="Sam Patel", role=Role.CARER, organisation_id=org
        )
        await tag_queries.insert_tag(conn, tag_id="04A224B2C35E80", user_id=carer.id, organisation_id=org)
        visit = await queries.insert_visit(
            conn,
            organisation_id=org,
            home_id=home,
            local_date=now.date(),
            planned_start=now + timedelta(minutes=5),
            planned_end=now + timedelta(minutes=50),
            tasks=["medication"],
        )
        assert visit is not None
        await queries.assign(
            conn, visit_id=visit, carer_id=carer.id, by=None, actor=("system", "test"), reason=""
        )
    settings = rig.settings
    async with connect_admin(mqtt_config(settings, client_id=f"adm-{uuid.uuid4().hex[:6]}")) as admin:
        reader = await devices.register_device(
            rig.pool,
            admin,
            topic_root=settings.mqtt_topic_root,
            home_id=home,
            device_type="nfc_reader",
            room="hall",
        )
    client = AsyncMqttClient(replace(rig.publisher, client_id=f"rig-{uuid.uuid4().hex[:8]}"))
    await client.connect()
    try:
        topic = message_topic(settings.mqtt_topic_root, home, reader.device_id, MessageKind.TAG)
        payload = {"ts": now.isoformat(), "seq": 1, "tag_id": "04A224B2C35E80"}
        await client.publish(topic, orjson.dumps(payload))
    finally:
        await client.disconnect()
    await wait_until(
        rig.pool, "SELECT count(*) FROM visit_events WHERE visit_id = $1", visit, at_least=1, timeout=30
    )
    async with rig.pool.acquire() as conn:
        row = await queries.get_visit(conn, visit_id=visit)
        [event] = await queries.visit_events(conn, visit_id=visit)
    assert row is not None and (row["status"], row["check_in_method"], row["checked_in_at"]) == (
        "in_progress",
        "tag",
        now,
    )
    assert (event["carer_id"], event["device_id"], event["reading_seq"], event["accepted"]) == (
        carer.id,
        reader.device_id,
        1,
        True,
    )
    assert event["arrival_time"] >= event["event_time"]
