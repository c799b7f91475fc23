"""The registry and provisioning through the API, with the real database and broker."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from api.main import create_app
from devices.contract import MessageKind
from kernel.settings import Settings
from tests.conftest import ADMIN_TOKEN


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        async with httpx.AsyncClient(transport=transport, base_url="http://test", headers=headers) as client:
            yield client


async def _home(api: httpx.AsyncClient) -> tuple[str, str]:
    org = (await api.post("/v1/organisations", json={"name": "Riverside Care"})).json()["id"]
    home = await api.post(
        f"/v1/organisations/{org}/homes", json={"name": "Flat 3", "timezone": "Europe/London"}
    )
    assert home.status_code == 201, home.text
    return org, home.json()["id"]


async def test_without_the_token_the_door_is_closed(api: httpx.AsyncClient) -> None:
    for headers in ({"Authorization": ""}, {"Authorization": "Bearer wrong"}):
        response = await api.get("/v1/homes", headers=headers)
        assert response.status_code == 401, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["detail"]


async def test_provisioning_lifecycle(api: httpx.AsyncClient) -> None:
    org, home = await _home(api)
    created = await api.post(f"/v1/homes/{home}/devices", json={"type": "pendant", "room": "bedroom"})
    assert created.status_code == 201, created.text
    creds = created.json()
    assert len(creds["password"]) >= 24 and creds["publish_topic"].endswith(f"{creds['device_id']}/+")
    device = creds["device_id"]
    health = (await api.get(f"/v1/homes/{home}/devices")).json()
    assert [(d["device_id"], d["online"], d["offline_reason"]) for d in health] == [
        (device, False, "never_seen")
    ]
    assert len((await api.get(f"/v1/organisations/{org}/devices")).json()) == 1
    rotated = (await api.post(f"/v1/devices/{device}/rotate")).json()
    assert rotated["password"] != creds["password"]
    assert (await api.post(f"/v1/devices/{device}/revoke")).status_code == 204
    assert (await api.get(f"/v1/devices/{device}")).json()["status"] == "revoked"
    assert (await api.post(f"/v1/devices/{device}/decommission")).status_code == 204
    again = await api.post(f"/v1/devices/{device}/decommission")
    assert again.status_code == 409 and "already decommissioned" in again.json()["detail"]


@pytest.mark.parametrize(
    ("path", "body", "status", "reason"),
    [
        ("/v1/organisations", {"name": ""}, 422, "name"),
        ("/v1/organisations", {"name": "x", "extra": 1}, 422, "extra"),
        ("/v1/organisations/not-a-uuid/homes", {"name": "x"}, 422, "organisation_id"),
        ("/v1/organisations/00000000-0000-0000-0000-000000000000/homes", {"name": "x"}, 404, "not found"),
    ],
)
async def test_bad_requests_get_a_reason(
    api: httpx.AsyncClient, path: str, body: dict[str, object], status: int, reason: str
) -> None:
    response = await api.post(path, json=body)
    assert response.status_code == status
    assert reason in response.text


async def test_bad_home_and_device_input(api: httpx.AsyncClient) -> None:
    org, home = await _home(api)
    zone = await api.post(f"/v1/organisations/{org}/homes", json={"name": "x", "timezone": "Mars/Olympus"})
    assert zone.status_code == 422 and "time zone" in zone.json()["detail"]
    kind = await api.post(f"/v1/homes/{home}/devices", json={"type": "toaster"})
    assert kind.status_code == 422 and "type" in kind.json()["detail"]
    missing = await api.post(
        "/v1/homes/00000000-0000-0000-0000-000000000000/devices", json={"type": "pendant"}
    )
    assert missing.status_code == 404
    limit = await api.get("/v1/homes", params={"limit": 0})
    assert limit.status_code == 422


async def test_the_contract_is_served(api: httpx.AsyncClient) -> None:
    index = (await api.get("/v1/contract", headers={"Authorization": ""})).json()
    assert index["kinds"] == [k.value for k in MessageKind]
    for kind in index["kinds"]:
        schema = (await api.get(f"/v1/contract/messages/{kind}")).json()
        assert schema["type"] == "object" and "ts" in schema["properties"] and schema["examples"]
    assert (await api.get("/v1/contract/messages/teleport")).status_code == 404
