"""Login throttling: growing delays that slow guessing without locking the owner out.

Three keys count failed logins: the email and client network together, the client network alone (many
emails from one place: credential stuffing) and the email alone (one account from many places). Each
key has some free failures; after those every failure doubles the key's delay, up to a cap, and an
attempt within a delay answers 429 with Retry-After without the password being looked at. An attempt
is counted before its password is checked (and taken back if it succeeds), so that parallel guesses
cannot slip through together. Nothing locks:
when the delay has passed, the next attempt is heard. From a network where the user has logged in
before, only the first key applies, so failures elsewhere never stop the owner there. The state is in
PostgreSQL, so every API process applies the same delays. See docs/production.md, "Login throttling".
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

import asyncpg

from accounts import throttle_queries
from accounts.errors import RateLimited


@dataclass(frozen=True, slots=True)
class ThrottleConfig:
    """How many failures each key has free, how delays grow, and how long things are remembered."""

    window_s: int = 3600
    free_per_pair: int = 3
    free_per_network: int = 30
    free_per_email: int = 100
    base_delay_s: float = 1.0
    max_delay_s: float = 300.0
    known_network_days: int = 90


@dataclass(frozen=True, slots=True)
class Keys:
    """The throttle keys of one login attempt, and the client's network."""

    network: str
    pair: str
    by_network: str
    by_email: str


def network_of(client_addr: str) -> str:
    """The client's network: an IPv4 address, or the /64 of an IPv6 address (one subscriber's)."""
    try:
        addr = ipaddress.ip_address(client_addr)
    except ValueError:
        return client_addr
    if isinstance(addr, ipaddress.IPv6Address):
        if addr.ipv4_mapped is not None:
            return str(addr.ipv4_mapped)
        return str(ipaddress.IPv6Network((addr, 64), strict=False))
    return str(addr)


def keys_for(email: str, client_addr: str) -> Keys:
    """The keys a login attempt for this (normalised) email from this address counts against."""
    network = network_of(client_addr)
    return Keys(network, f"pair:{network} {email}", f"net:{network}", f"email:{email}")


def delay_after(failures: int, *, free: int, config: ThrottleConfig) -> float:
    """Seconds a key waits after its n-th failure: none while free, then doubling up to the cap."""
    if failures <= free:
        return 0.0
    return min(config.max_delay_s, config.base_delay_s * 2.0 ** min(failures - free - 1, 40))


def _applying(keys: Keys, *, known: bool) -> list[str]:
    return [keys.pair] if known else [keys.pair, keys.by_network, keys.by_email]


async def claim(conn: asyncpg.Connection, config: ThrottleConfig, keys: Keys, *, known: bool) -> None:
    """Count this attempt as a failure before its password is checked; RateLimited if a key delays it.

    Counting first, under the keys' row locks, is what stops parallel guesses from all passing before
    the first of them has counted. A delayed attempt counts nothing (its transaction is rolled back).
    """
    async with conn.transaction():
        counts = await throttle_queries.count_attempt(
            conn, keys=_applying(keys, known=known), window_s=config.window_s
        )
        delayed = [until for _, until in counts.values() if until is not None]
        if delayed:
            wait = max(1, math.ceil((max(delayed) - datetime.now(UTC)).total_seconds()))
            raise RateLimited(f"too many failed logins; try again in {wait} s", retry_after=wait)
        await _start_delays(conn, config, keys, {k: n for k, (n, _) in counts.items()})


async def failed(conn: asyncpg.Connection, config: ThrottleConfig, keys: Keys, *, known: bool) -> None:
    """The claimed attempt failed: count it against the keys that did not apply to it as well."""
    if known:
        others = [keys.by_network, keys.by_email]
        counts = await throttle_queries.count_attempt(conn, keys=others, window_s=config.window_s)
        await _start_delays(conn, config, keys, {k: n for k, (n, _) in counts.items()})
    await throttle_queries.prune(conn, window_s=config.window_s)


async def succeeded(
    conn: asyncpg.Connection, config: ThrottleConfig, keys: Keys, *, user_id: UUID, known: bool
) -> None:
    """The claimed attempt succeeded: forget the email's failures, remember the network as the user's.

    The network's count only loses this attempt: one known password must not reset a stuffing run.
    """
    await throttle_queries.forget(conn, keys=[keys.pair, keys.by_email])
    if not known:
        await throttle_queries.uncount(conn, key=keys.by_network)
    await throttle_queries.remember(
        conn, user_id=user_id, network=keys.network, max_age_days=config.known_network_days
    )


async def _start_delays(
    conn: asyncpg.Connection, config: ThrottleConfig, keys: Keys, counts: dict[str, int]
) -> None:
    free = {
        keys.pair: config.free_per_pair,
        keys.by_network: config.free_per_network,
        keys.by_email: config.free_per_email,
    }
    delays = {k: delay_after(n, free=free[k], config=config) for k, n in counts.items()}
    await throttle_queries.delay(conn, delays={k: s for k, s in delays.items() if s > 0})
