"""Login throttling through the app: growing delays that slow an attacker and never lock the owner out."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import asyncpg
import httpx
from fastapi import FastAPI

from tests.accounts.conftest import BASE_DELAY_S as BASE
from tests.accounts.conftest import FREE_PER_NETWORK, FREE_PER_PAIR
from tests.accounts.conftest import MAX_DELAY_S as CAP
from tests.accounts.test_auth import ADMIN, login
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD

Clients = Callable[[str], httpx.AsyncClient]


def _pool(app: FastAPI) -> asyncpg.Pool:
    pool: asyncpg.Pool = app.state.resources.pool
    return pool


async def _let_delays_pass(app: FastAPI) -> None:
    # Stands for waiting out every delay, so that no test sleeps or depends on its own speed.
    async with _pool(app).acquire() as conn:
        await conn.execute("UPDATE login_throttle SET not_before = now()")


async def _fail_until_slowed(client: httpx.AsyncClient, email: str, *, most: int = 20) -> httpx.Response:
    for _ in range(most):
        response = await login(client, email, "not the password at all")
        if response.status_code != 401:
            return response
    raise AssertionError(f"{most} failed logins for {email} were never slowed")


async def _user_with_password(client: httpx.AsyncClient, email: str, password: str) -> None:
    invited = await client.post(
        "/v1/invitations", json={"email": email, "role": "platform_admin"}, headers=ADMIN
    )
    assert invited.status_code == 201, invited.text
    accepted = await client.post(
        "/v1/invitations/accept", json={"token": invited.json()["token"], "password": password}
    )
    assert accepted.status_code == 200, accepted.text


async def test_an_attacker_elsewhere_cannot_keep_the_owner_out(
    app_client: tuple[FastAPI, httpx.AsyncClient], client_from: Clients
) -> None:
    home = client_from("198.51.100.7")
    assert (await login(home, ADMIN_EMAIL, ADMIN_PASSWORD)).status_code == 200
    # Wrong passwords for the owner's email from many addresses, past every limit of that email.
    for n in range(1, 6):
        slowed = await _fail_until_slowed(client_from(f"203.0.113.{n}"), ADMIN_EMAIL)
        assert slowed.status_code == 429, slowed.text
    from_new_place = await login(client_from("203.0.113.99"), ADMIN_EMAIL, "one more guess")
    assert from_new_place.status_code == 429
    assert 0 < int(from_new_place.headers["retry-after"]) <= CAP
    # The owner, where they have logged in before, is let in with the right password at once.
    again = await login(home, ADMIN_EMAIL, ADMIN_PASSWORD)
    assert again.status_code == 200, again.text
    assert (await client_from("198.51.100.7").get("/v1/me", headers=_bearer(again.json()))).status_code == 200


async def test_one_address_guessing_many_emails_is_slowed_but_known_owners_pass(
    app_client: tuple[FastAPI, httpx.AsyncClient], client_from: Clients
) -> None:
    client = app_client[1]
    await _user_with_password(client, "ops@test.example", "a quiet harbour at dusk")
    shared = client_from("192.0.2.50")  # one address (a care home's network, or an attacker)
    assert (await login(shared, ADMIN_EMAIL, ADMIN_PASSWORD)).status_code == 200
    for n in range(FREE_PER_NETWORK + 1):
        assert (await login(shared, f"guess{n}@test.example", "Summer2026!")).status_code == 401
    new_guess = await login(shared, "guess-next@test.example", "Summer2026!")
    assert new_guess.status_code == 429
    assert new_guess.headers["content-type"] == "application/problem+json"
    assert 0 < int(new_guess.headers["retry-after"]) <= BASE
    # An account that never logged in from here is slowed too, even with its right password ...
    stranger = await login(shared, "ops@test.example", "a quiet harbour at dusk")
    assert stranger.status_code == 429
    # ... but one that has logged in from here before is not, and neither is anyone elsewhere.
    assert (await login(shared, ADMIN_EMAIL, ADMIN_PASSWORD)).status_code == 200
    assert (
        await login(client_from("192.0.2.51"), "ops@test.example", "a quiet harbour at dusk")
    ).status_code == 200


async def test_the_same_email_and_address_get_growing_delays_not_a_lock(
    app_client: tuple[FastAPI, httpx.AsyncClient], client_from: Clients
) -> None:
    app = app_client[0]
    guesser = client_from("203.0.113.20")
    for _ in range(FREE_PER_PAIR):
        assert (await login(guesser, ADMIN_EMAIL, "wrong password")).status_code == 401
    waits = []
    for _ in range(5):
        assert (await login(guesser, ADMIN_EMAIL, "wrong password")).status_code == 401
        slowed = await login(guesser, ADMIN_EMAIL, ADMIN_PASSWORD)  # not even heard while slowed
        assert slowed.status_code == 429, slowed.text
        waits.append(int(slowed.headers["retry-after"]))
        await _let_delays_pass(app)
    # Doubling from the base to the cap; Retry-After counts down from each delay as time goes by.
    expected = [BASE, 2 * BASE, 4 * BASE, CAP, CAP]
    assert all(d / 2 < w <= d for w, d in zip(waits, expected, strict=True)), waits
    # Once the delay has passed the right password is heard: a delay, never a lock.
    assert (await login(guesser, ADMIN_EMAIL, ADMIN_PASSWORD)).status_code == 200


async def test_parallel_guesses_do_not_slip_through_together(client_from: Clients) -> None:
    guesser = client_from("203.0.113.30")
    answers = await asyncio.gather(*(login(guesser, ADMIN_EMAIL, f"guess number {n}") for n in range(12)))
    statuses = sorted(r.status_code for r in answers)
    # The free failures and the one that starts the delay are heard; every other one waits.
    assert statuses == [401] * (FREE_PER_PAIR + 1) + [429] * (11 - FREE_PER_PAIR), statuses


async def test_the_same_limits_hold_for_an_ipv6_subscriber_across_its_addresses(
    client_from: Clients,
) -> None:
    for n in range(FREE_PER_PAIR + 1):
        assert (await login(client_from(f"2001:db8:1:2::{n + 1}"), ADMIN_EMAIL, "wrong")).status_code == 401
    same_subscriber = await login(client_from("2001:db8:1:2:ffff::9"), ADMIN_EMAIL, "wrong")
    assert same_subscriber.status_code == 429
    assert (await login(client_from("2001:db8:1:3::1"), ADMIN_EMAIL, ADMIN_PASSWORD)).status_code == 200


def _bearer(tokens: dict[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}
