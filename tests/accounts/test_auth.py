"""Logging in, refreshing, logging out, invitations, API keys and the audit log (via the API).

Login throttling: test_throttle.py; password rules and invitations across tenants: test_passwords.py.
"""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI

from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, ADMIN_TOKEN

FORM = {"content-type": "application/x-www-form-urlencoded"}
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


async def login(client: httpx.AsyncClient, email: str, password: str, **headers: str) -> httpx.Response:
    return await client.post(
        "/v1/auth/token",
        data={"grant_type": "password", "username": email, "password": password},
        headers=headers,
    )


def _bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def test_login_gives_tokens_that_work(client: httpx.AsyncClient) -> None:
    response = await login(client, ADMIN_EMAIL.upper(), ADMIN_PASSWORD)
    assert response.status_code == 200, response.text
    tokens = response.json()
    assert tokens["token_type"] == "bearer" and tokens["expires_in"] == 900
    me = (await client.get("/v1/me", headers=_bearer(tokens))).json()
    assert me["role"] == "platform_admin" and me["home_ids"] is None


async def test_wrong_password_and_unknown_account_are_the_same_401(client: httpx.AsyncClient) -> None:
    for email, password in ((ADMIN_EMAIL, "wrong password"), ("nobody@test.example", ADMIN_PASSWORD)):
        response = await login(client, email, password)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json()["detail"] == "wrong email or password"
    assert (await client.post("/v1/auth/token", json={"username": "x", "password": "y"})).status_code == 422


async def test_refresh_rotates_and_a_replayed_token_ends_the_login(client: httpx.AsyncClient) -> None:
    first = (await login(client, ADMIN_EMAIL, ADMIN_PASSWORD)).json()
    second = await client.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    rotated = second.json()
    assert rotated["refresh_token"] != first["refresh_token"]
    assert (await client.get("/v1/me", headers=_bearer(rotated))).status_code == 200
    replay = await client.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert replay.status_code == 401
    # The replay revoked the whole login, so the newer token is dead too.
    after = await client.post("/v1/auth/refresh", json={"refresh_token": rotated["refresh_token"]})
    assert after.status_code == 401


async def test_logout_revokes_the_refresh_token(client: httpx.AsyncClient) -> None:
    tokens = (await login(client, ADMIN_EMAIL, ADMIN_PASSWORD)).json()
    assert (
        await client.post("/v1/auth/logout", json={"refresh_token": tokens["refresh_token"]})
    ).status_code == 204
    again = await client.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert again.status_code == 401


async def test_a_token_that_is_missing_expired_or_tampered_is_401(client: httpx.AsyncClient) -> None:
    header, payload, signature = ADMIN_TOKEN.split(".")
    for headers in (
        {},
        {"Authorization": "Bearer nonsense"},
        {"Authorization": f"Bearer {header}.{payload}x.{signature}"},
        {"Authorization": f"Bearer {header}.{payload}.{signature[::-1]}"},
        {"X-API-Key": "tck_not-a-key"},
    ):
        response = await client.get("/v1/alerts", headers=headers)
        assert response.status_code == 401, headers
        assert response.json()["detail"]


async def _invite_and_accept(client: httpx.AsyncClient, headers: dict[str, str], **invitation: Any) -> str:
    invited = await client.post("/v1/invitations", json=invitation, headers=headers)
    assert invited.status_code == 201, invited.text
    body = invited.json()
    assert body["user"]["activated"] is False
    assert (await login(client, invitation["email"], "chosen password")).status_code == 401
    accepted = await client.post(
        "/v1/invitations/accept", json={"token": body["token"], "password": "chosen password"}
    )
    assert accepted.status_code == 200 and accepted.json()["activated"] is True
    reused = await client.post(
        "/v1/invitations/accept", json={"token": body["token"], "password": "another chosen password"}
    )
    assert reused.status_code == 404
    tokens = await login(client, invitation["email"], "chosen password")
    assert tokens.status_code == 200
    return str(tokens.json()["access_token"])


async def test_invitations_api_keys_and_the_audit_log(app_client: tuple[FastAPI, httpx.AsyncClient]) -> None:
    client = app_client[1]
    org = (await client.post("/v1/organisations", json={"name": "Oak Care"}, headers=ADMIN)).json()["id"]
    coordinator = {
        "Authorization": "Bearer "
        + await _invite_and_accept(
            client, ADMIN, email="lee@oak.example", role="coordinator", organisation_id=org
        )
    }
    # A coordinator invites into their own organisation, never a platform admin.
    await _invite_and_accept(client, coordinator, email="sam@oak.example", role="carer")
    refused = await client.post(
        "/v1/invitations", json={"email": "x@oak.example", "role": "platform_admin"}, headers=coordinator
    )
    assert refused.status_code == 403
    created = await client.post(
        f"/v1/organisations/{org}/api-keys", json={"name": "bridge"}, headers=coordinator
    )
    assert created.status_code == 201
    key = {"X-API-Key": created.json()["key"]}
    assert (await client.get("/v1/alerts", headers=key)).status_code == 200
    revoked = await client.post(f"/v1/api-keys/{created.json()['id']}/revoke", headers=coordinator)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert (await client.get("/v1/alerts", headers=key)).status_code == 401
    log = await client.get("/v1/audit", headers=coordinator)
    entries = log.json()["items"]
    assert [e["action"] for e in entries] == [
        "api_key.revoke",
        "api_key.create",
        "user.invite",
        "user.invite",
        "organisation.create",
    ]
    assert all(e["organisation_id"] == org and e["client_addr"] for e in entries)
    assert entries[0]["actor_name"] and entries[0]["user_agent"].startswith("python-httpx")


async def test_a_deactivated_account_cannot_refresh_or_use_its_homes(client: httpx.AsyncClient) -> None:
    org = (await client.post("/v1/organisations", json={"name": "Elm Care"}, headers=ADMIN)).json()["id"]
    token = await _invite_and_accept(
        client, ADMIN, email="kim@elm.example", role="carer", organisation_id=org
    )
    refresh = (await login(client, "kim@elm.example", "chosen password")).json()["refresh_token"]
    me = (await client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})).json()
    assert me["home_ids"] == []
    off = await client.patch(f"/v1/users/{me['id']}", json={"active": False}, headers=ADMIN)
    assert off.status_code == 200 and off.json()["active"] is False
    assert (await client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})).status_code == 401
    assert (await client.post("/v1/auth/refresh", json={"refresh_token": refresh})).status_code == 401
