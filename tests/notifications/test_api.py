"""The notification routes with a real SMTP server: a contact point verified by the code it was sent, a
test message, preferences, a coordinator's policy (a family member may not set one), an alert's timeline,
and the response report as JSON and CSV."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from kernel.settings import Settings
from notifications.channels.webpush import new_vapid_pem
from notifications.process import build_dispatcher
from tests.api.world import World, build_world, running_app
from tests.notifications.support import HttpReceiver, SmtpSink, text_of


@pytest.fixture
async def client(notify_settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, World, object]]:
    async with running_app(notify_settings) as (app, client), httpx.AsyncClient() as outbound:
        pool = app.state.resources.pool
        dispatcher = build_dispatcher(pool, notify_settings, outbound, new_vapid_pem())
        yield client, await build_world(pool), dispatcher


async def test_a_family_member_verifies_an_email_and_gets_a_test_message(
    client: tuple[httpx.AsyncClient, World, object], sinks: tuple[SmtpSink, HttpReceiver]
) -> None:
    api, world, dispatcher = client
    smtp, _ = sinks
    me = world.a.tokens["family"]
    added = await api.post(
        "/v1/contact-points", json={"channel": "email", "address": "me@family.example"}, headers=me
    )
    assert added.status_code == 201, added.text
    point = added.json()
    assert point["verified"] is False
    await dispatcher.run_once()  # type: ignore[attr-defined]
    code = re.search(r"\b(\d{6})\b", text_of((await smtp.wait_for("me@family.example"))[0]))
    assert code
    wrong = await api.post(f"/v1/contact-points/{point['id']}/verify", json={"code": "000000"}, headers=me)
    assert wrong.status_code == 422
    ok = await api.post(f"/v1/contact-points/{point['id']}/verify", json={"code": code[1]}, headers=me)
    assert ok.status_code == 200 and ok.json()["verified"] is True
    other = await api.post(
        f"/v1/contact-points/{point['id']}/verify", json={"code": code[1]}, headers=world.a.tokens["carer"]
    )
    assert other.status_code == 404
    test = await api.post("/v1/me/test-notification", json={"channel": "email"}, headers=me)
    assert test.json() == {"queued": 1}
    await dispatcher.run_once()  # type: ignore[attr-defined]
    assert "test message" in text_of((await smtp.wait_for("me@family.example", count=2))[1])
    listed = await api.get("/v1/contact-points", headers=me)
    assert [p["id"] for p in listed.json()] == [point["id"]]
    gone = await api.delete(f"/v1/contact-points/{point['id']}", headers=me)
    assert gone.status_code == 204
    assert (await api.get("/v1/contact-points", headers=me)).json() == []


async def test_preferences_and_policies(client: tuple[httpx.AsyncClient, World, object]) -> None:
    api, world, _ = client
    me = world.a.tokens["family"]
    assert (await api.get("/v1/me/notification-preferences", headers=me)).json()["min_severity"] == "low"
    prefs = {"min_severity": "high", "quiet_start": "22:00", "quiet_end": "07:00", "timezone": "Europe/Paris"}
    put = await api.put("/v1/me/notification-preferences", json=prefs, headers=me)
    assert put.status_code == 200 and put.json()["quiet_end"] == "07:00"
    half = await api.put("/v1/me/notification-preferences", json={"quiet_start": "22:00"}, headers=me)
    assert half.status_code == 422

    policy: dict[str, Any] = {
        "steps": [
            {"targets": [{"kind": "user", "id": str(world.a.family)}], "channels": ["email"], "wait_s": 60},
            {"targets": [{"kind": "coordinators"}], "channels": ["email", "sms"], "wait_s": 120},
        ],
        "repeats": 1,
    }
    home = f"/v1/homes/{world.a.home}/escalation-policy"
    assert (await api.put(home, json=policy, headers=me)).status_code == 403
    coordinator = world.a.tokens["coordinator"]
    assert (await api.get(home, headers=coordinator)).json()["source"] == "built-in"
    stored = await api.put(home, json=policy, headers=coordinator)
    assert stored.status_code == 200 and stored.json()["source"] == "home"
    org = await api.put(
        f"/v1/organisations/{world.a.org}/escalation-policy",
        json={"steps": [{"targets": [{"kind": "circle"}], "channels": ["email"], "wait_s": 30}]},
        headers=coordinator,
    )
    assert org.status_code == 200
    other_home = f"/v1/homes/{world.a.other_home}/escalation-policy"
    assert (await api.get(other_home, headers=coordinator)).json()["source"] == "organisation"
    outsider = {
        **policy,
        "steps": [{**policy["steps"][0], "targets": [{"kind": "user", "id": str(world.b.family)}]}],
    }
    assert (await api.put(home, json=outsider, headers=coordinator)).status_code == 404
    assert (await api.delete(home, headers=coordinator)).status_code == 204
    assert (await api.get(home, headers=coordinator)).json()["source"] == "organisation"
    bad = {"steps": [{"targets": [{"kind": "user"}], "channels": ["email"], "wait_s": 30}]}
    assert (await api.put(home, json=bad, headers=coordinator)).status_code == 422


async def test_the_timeline_and_the_response_report(
    client: tuple[httpx.AsyncClient, World, object], sinks: tuple[SmtpSink, HttpReceiver]
) -> None:
    api, world, dispatcher = client
    coordinator = world.a.tokens["coordinator"]
    await dispatcher.run_once()  # type: ignore[attr-defined]  # the world's alerts: the coordinator's email
    timeline = await api.get(f"/v1/alerts/{world.a.alert}/notifications", headers=coordinator)
    assert timeline.status_code == 200, timeline.text
    deliveries = timeline.json()["deliveries"]
    assert deliveries and {a["event"] for a in deliveries[0]["attempts"]} >= {"queued", "sent"}
    family_view = await api.get(f"/v1/alerts/{world.a.alert}/notifications", headers=world.a.tokens["family"])
    assert all(d["address"] is None for d in family_view.json()["deliveries"])

    window = "since=2026-11-01T00:00:00Z&until=2026-12-01T00:00:00Z"
    path = f"/v1/organisations/{world.a.org}/notification-report?{window}"
    report = await api.get(path, headers=coordinator)
    assert report.status_code == 200, report.text
    [high] = report.json()
    assert high["severity"] == "high" and high["alerts"] == 2 and high["notify_median_s"] is not None
    as_csv = await api.get(path + "&format=csv", headers=coordinator)
    assert as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert rows[0]["severity"] == "high" and rows[0]["alerts"] == "2"
    assert (await api.get(path, headers=world.a.tokens["family"])).status_code == 403
    assert (
        await api.get(path.replace(str(world.a.org), str(world.b.org)), headers=coordinator)
    ).status_code == 404
