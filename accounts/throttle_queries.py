"""Login throttling SQL: delays per key, and the networks each user has logged in from."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg


async def blocked(conn: asyncpg.Connection, *, keys: list[str], window_s: int) -> datetime | None:
    """The latest time until which one of the keys is delayed, or None if none is."""
    value: datetime | None = await conn.fetchval(
        """
        SELECT max(not_before) FROM login_throttle
        WHERE key = ANY($1::text[]) AND not_before > now()
          AND last_failure_at > now() - make_interval(secs => $2)
        """,
        keys,
        window_s,
    )
    return value


async def count_failure(conn: asyncpg.Connection, *, keys: list[str], window_s: int) -> dict[str, int]:
    """Count a failure against each key (starting again after a quiet window); the new counts."""
    rows = await conn.fetch(
        """
        INSERT INTO login_throttle AS t (key, failures, last_failure_at, not_before)
        SELECT k, 1, now(), now() FROM unnest($1::text[]) AS k
        ON CONFLICT (key) DO UPDATE SET
            failures = CASE WHEN t.last_failure_at < now() - make_interval(secs => $2) THEN 1
                            ELSE t.failures + 1 END,
            not_before = CASE WHEN t.last_failure_at < now() - make_interval(secs => $2) THEN now()
                              ELSE t.not_before END,
            last_failure_at = now()
        RETURNING key, failures
        """,
        keys,
        window_s,
    )
    return {r["key"]: int(r["failures"]) for r in rows}


async def delay(conn: asyncpg.Connection, *, delays: dict[str, float]) -> None:
    """Push each key's next allowed attempt to at least now plus its delay in seconds."""
    await conn.execute(
        """
        UPDATE login_throttle t SET not_before = greatest(t.not_before, now() + make_interval(secs => d.s))
        FROM unnest($1::text[], $2::float8[]) AS d(key, s) WHERE t.key = d.key
        """,
        list(delays),
        list(delays.values()),
    )


async def forget(conn: asyncpg.Connection, *, keys: list[str]) -> None:
    """Forget keys' failures (after a successful login)."""
    await conn.execute("DELETE FROM login_throttle WHERE key = ANY($1::text[])", keys)


async def prune(conn: asyncpg.Connection, *, window_s: int, limit: int = 100) -> None:
    """Delete up to `limit` keys that had no failure for the window (keeps the table small)."""
    await conn.execute(
        """
        DELETE FROM login_throttle WHERE key IN (
            SELECT key FROM login_throttle
            WHERE last_failure_at < now() - make_interval(secs => $1) LIMIT $2)
        """,
        window_s,
        limit,
    )


async def is_known(
    conn: asyncpg.Connection, *, user_id: UUID | None, network: str, max_age_days: int
) -> bool:
    """Whether the user logged in successfully from this network within max_age_days."""
    return bool(
        await conn.fetchval(
            """
            SELECT EXISTS (SELECT 1 FROM login_known_networks WHERE user_id = $1 AND network = $2
                           AND last_login_at > now() - make_interval(days => $3))
            """,
            user_id,
            network,
            max_age_days,
        )
    )


async def remember(conn: asyncpg.Connection, *, user_id: UUID, network: str) -> None:
    """Record a successful login of the user from this network."""
    await conn.execute(
        """
        INSERT INTO login_known_networks (user_id, network) VALUES ($1, $2)
        ON CONFLICT (user_id, network) DO UPDATE SET last_login_at = now()
        """,
        user_id,
        network,
    )
