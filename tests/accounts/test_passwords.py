"""New passwords are checked wherever one is set (NIST SP 800-63B), and invitations reveal no other tenant."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from accounts import service as accounts
from accounts.errors import InvalidInput
from kernel.settings import Settings
from tests.accounts.test_auth import ADMIN, login
from tests.telecare.test_cli import _telecare

GOOD = "a quiet harbour at dusk"
WEAK = [
    ("1234567890", "at least 15 characters"),
    ("123456789012345", "too easy to guess"),
    ("aaaaaaaaaaaaaaaa", "too easy to guess"),
    ("password12345678", "too easy to guess"),
    ("qwertyuiopasdfgh", "too easy to guess"),
    ("jo.smith@oak.example", "too easy to guess"),
    ("\x00" * 16, "control characters"),
    ("correct\thorse battery", "control characters"),
]


async def _invite(client: httpx.AsyncClient, headers: dict[str, str], **invitation: Any) -> httpx.Response:
    return await client.post("/v1/invitations", json=invitation, headers=headers)


async def test_weak_passwords_are_refused_with_the_reason(client: httpx.AsyncClient) -> None:
    invited = await _invite(
        client, ADMIN, email="jo.smith@oak.example", name="Jo Smith", role="platform_admin"
    )
    token = invited.json()["token"]
    for password, reason in WEAK:
        refused = await client.post("/v1/invitations/accept", json={"token": token, "password": password})
        assert refused.status_code == 422, (password, refused.text)
        assert refused.headers["content-type"] == "application/problem+json"
        assert reason in refused.json()["detail"], (password, refused.json())
    # A refused password leaves the invitation usable; no composition rules: lower-case words do.
    accepted = await client.post("/v1/invitations/accept", json={"token": token, "password": GOOD})
    assert accepted.status_code == 200, accepted.text
    assert (await login(client, "jo.smith@oak.example", GOOD)).status_code == 200


async def test_the_command_line_and_the_first_admin_check_the_password_too(
    settings: Settings, app_client: tuple[FastAPI, httpx.AsyncClient]
) -> None:
    code, _, err = await _telecare(
        settings,
        *("user", "create", "--email", "ops@example.org", "--role", "platform_admin", "--password-stdin"),
        stdin=b"aaaaaaaaaaaaaaaa\n",
    )
    assert code == 2 and "too easy to guess" in err
    pool: asyncpg.Pool = app_client[0].state.resources.pool
    async with pool.acquire() as conn:
        await conn.execute("UPDATE users SET active = false WHERE role = 'platform_admin'")
        assert await conn.fetchval("SELECT count(*) FROM users WHERE email = 'ops@example.org'") == 0
    with pytest.raises(InvalidInput, match="at least 15 characters"):
        await accounts.ensure_platform_admin(pool, email="root@example.org", password="1234567890")
    assert await accounts.ensure_platform_admin(pool, email="root@example.org", password=GOOD)


async def test_an_invitation_for_another_tenants_account_looks_new_and_changes_nothing(
    client: httpx.AsyncClient,
) -> None:
    oak = (await client.post("/v1/organisations", json={"name": "Oak"}, headers=ADMIN)).json()["id"]
    elm = (await client.post("/v1/organisations", json={"name": "Elm"}, headers=ADMIN)).json()["id"]
    coord = await _invite(client, ADMIN, email="lee@oak.example", role="coordinator", organisation_id=oak)
    await client.post("/v1/invitations/accept", json={"token": coord.json()["token"], "password": GOOD})
    oak_coordinator = {
        "Authorization": f"Bearer {(await login(client, 'lee@oak.example', GOOD)).json()['access_token']}"
    }
    elms = await _invite(
        client, ADMIN, email="kim@elm.example", name="Kim", role="family", organisation_id=elm
    )
    kim = elms.json()["user"]

    fresh = await _invite(client, oak_coordinator, email="new@oak.example", name="Ann", role="family")
    other = await _invite(client, oak_coordinator, email="KIM@elm.example", name="Ann", role="family")
    assert other.status_code == fresh.status_code == 201, other.text
    assert _shape(other.json()) == _shape(fresh.json())
    assert {
        k: other.json()["user"][k] for k in ("email", "name", "role", "organisation_id", "activated")
    } == {
        "email": "kim@elm.example",
        "name": "Ann",
        "role": "family",
        "organisation_id": oak,
        "activated": False,
    }
    assert other.json()["user"]["id"] != kim["id"] and other.json()["token"] != elms.json()["token"]

    # Elm's account is untouched: same name and organisation, its own invitation still works, the
    # token handed to Oak sets nothing.
    assert (await client.get(f"/v1/users/{kim['id']}", headers=ADMIN)).json() == kim
    taken = await client.post(
        "/v1/invitations/accept", json={"token": other.json()["token"], "password": GOOD}
    )
    assert taken.status_code == 404
    accepted = await client.post(
        "/v1/invitations/accept", json={"token": elms.json()["token"], "password": GOOD}
    )
    assert accepted.status_code == 200 and accepted.json()["organisation_id"] == elm

    # Within the inviter's own organisation (and for platform admins) the clash is told.
    again = await _invite(client, oak_coordinator, email="new@oak.example", role="family")
    assert again.status_code == 409
    assert (
        await _invite(client, ADMIN, email="kim@elm.example", role="family", organisation_id=elm)
    ).status_code == 409


def _shape(value: Any) -> Any:
    """The keys and value types of a JSON document, not its values."""
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in value.items()}
    return type(value).__name__
