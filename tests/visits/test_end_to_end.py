"""Through the real broker, ingest and database: a visit whose carer taps the door reader and opens the
front door ends `verified`; a phone check-in with no door opening and no movement ends `unverified`,
with the reason, and raises the alert."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import orjson

from accounts import queries as account_queries
from devices import service as devices
from devices.dynsec import connect_admin
from kernel.connect import mqtt_config
from kernel.mqtt import AsyncMqttClient
from simulators.carer_phone import CarerPhone, send
from simulators.model import CheckRecord, Fix
from tests.support import Rig, wait_until
from visits import queries, tag_queries
from visits.checkins import CheckConfig
from visits.tags import consume
from visits.verify_job import run_once

NOW = datetime.now(UTC).replace(microsecond=0)


def _ago(minutes: float) -> datetime:
    return NOW - timedelta(minutes=minutes)


async def test_tag_and_door_verified_phone_and_nothing_unverified(rig: Rig) -> None:
    settings = rig.settings
    tapped_home, phoned_home = rig.devices[0].home_id, rig.devices[2].home_id
    kit: dict[tuple[object, str], object] = {}
    async with connect_admin(mqtt_config(settings, client_id=f"adm-{uuid.uuid4().hex[:6]}")) as admin:
        for home, kind, room in (
            (tapped_home, "door_contact", "hallway"),
            (tapped_home, "nfc_reader", "hallway"),
            (phoned_home, "door_contact", "hallway"),
        ):
            made = await devices.register_device(
                rig.pool,
                admin,
                topic_root=settings.mqtt_topic_root,
                home_id=home,
                device_type=kind,
                room=room,
            )
            kit[(home, kind)] = made.device_id
    async with rig.pool.acquire() as conn:
        org = await conn.fetchval("SELECT organisation_id FROM homes WHERE id = $1", tapped_home)
        carer = await account_queries.insert_user(
            conn,
            email="sam@care.example",
            name="Sam Patel",
            role="carer",
            organisation_id=org,
            password_hash=None,
        )
        assert carer is not None
        await tag_queries.insert_tag(conn, tag_id="carer-5A1", user_id=carer["id"], organisation_id=org)
        visits = {}
        for home in (tapped_home, phoned_home):
            visit = await queries.insert_visit(
                conn, organisation_id=org, home_id=home, local_date=date.today(), planned_start=_ago(40),
                planned_end=_ago(10), tasks=["medication"], service_type="morning call",
            )  # fmt: skip
            assert visit is not None
            await conn.execute(
                "INSERT INTO visit_assignments (visit_id, carer_id) VALUES ($1, $2)", visit, carer["id"]
            )
            visits[home] = visit

    # The carer taps in, opens the door, moves about the hallway, taps out and leaves.
    door, reader, hall = (
        kit[(tapped_home, "door_contact")],
        kit[(tapped_home, "nfc_reader")],
        rig.devices[0].device_id,
    )
    timeline: list[tuple[object, str, datetime, dict[str, object]]] = [
        (reader, "tag", _ago(39), {"tag_id": "carer-5A1"}),
        (door, "contact", _ago(39) + timedelta(seconds=15), {"open": True}),
        (door, "contact", _ago(39) + timedelta(seconds=25), {"open": False}),
        (hall, "motion", _ago(30), {"detected": True}),
        (reader, "tag", _ago(10), {"tag_id": "carer-5A1"}),
        (door, "contact", _ago(10) + timedelta(seconds=20), {"open": True}),
    ]
    client = AsyncMqttClient(rig.publisher)
    await client.connect()
    try:
        for seq, (device, kind, at, fields) in enumerate(timeline, start=1):
            topic = f"{settings.mqtt_topic_root}/v1/{tapped_home}/{device}/{kind}"
            await client.publish(topic, orjson.dumps({"ts": at.isoformat(), "seq": seq, **fields}), qos=1)
    finally:
        await client.disconnect()
    await wait_until(
        rig.pool, "SELECT count(*) FROM readings WHERE home_id = $1", tapped_home, at_least=len(timeline)
    )

    async with rig.pool.acquire() as conn:
        # The other visit: the carer checks in and out by phone from the street; nobody goes in.
        await conn.execute("UPDATE homes SET latitude = 52.45, longitude = -1.9 WHERE id = $1", phoned_home)
        phone = CarerPhone.of(
            user_id=carer["id"], name="Sam Patel", organisation_id=org, homes=frozenset(visits)
        )
        street = Fix(52.4504, -1.9, 20.0)  # 45 m away: inside the geofence, so only the sensors can tell
        for kind, at in (("check_in", _ago(38)), ("check_out", _ago(11))):
            await send(
                conn, phone, visit_id=visits[phoned_home], kind=kind, check=CheckRecord(at, "phone", street),
                now=at + timedelta(seconds=3), config=CheckConfig(),
            )  # fmt: skip
    assert await consume(rig.pool, config=CheckConfig(), now=NOW) >= 2  # the door reader's taps

    assert await run_once(rig.pool) == 2
    async with rig.pool.acquire() as conn:
        rows = {r["visit_id"]: r for r in await conn.fetch("SELECT * FROM visit_verifications")}
        status = await conn.fetchval("SELECT status FROM visits WHERE id = $1", visits[tapped_home])
        alert = await conn.fetchrow("SELECT home_id, explanation FROM alerts WHERE kind = 'visit_unverified'")
    assert status == "completed"
    verified = rows[visits[tapped_home]]
    assert verified["verdict"] == "verified", verified["reasons"]
    assert verified["evidence"]["method"]["in"]["method"] == "tag"
    unverified = rows[visits[phoned_home]]
    assert unverified["verdict"] == "unverified"
    assert unverified["reasons"][0].startswith("Nobody came in: the front door did not open within 5 minutes")
    assert "nothing moved there during the visit" in unverified["reasons"][1]
    assert alert["home_id"] == phoned_home and "Nobody came in" in alert["explanation"]
    assert unverified["evidence"]["method"]["in"]["flags"] == []  # the phone alone looked fine
