"""Login throttling SQL: delays per key, and the networks each user has logged in from."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg


async def count_attempt(
    conn: asyncpg.Connection, *, keys: list[str], window_s: int
) -> dict[str, tuple[int, datetime | None]]:
    """Count an attempt against each key (afresh after a quiet window), locking the keys' rows.

    Per key: the new count, and until when the key was already delayed (None if it was not), which
    only this count's transaction could see, as concurrent attempts wait for its row locks.
    """
    rows = await conn.fetch(
        """
        INSERT INTO login_throttle AS t (key, failures, last_failure_at, not_before)
        SELECT k, 1, now(), now() FROM unnest($1::text[]) AS k ORDER BY k
        ON CONFLICT (key) DO UPDATE SET
            failures = CASE WHEN t.last_failure_at < now() - make_interval(secs => $2) THEN 1
                            ELSE t.failures + 1 END,
            not_before = CASE WHEN t.last_failure_at < now() - make_interval(secs => $2) THEN now()
                              ELSE t.not_before END,
            last_failure_at = now()
        RETURNING key, failures, CASE WHEN not_before > now() THEN not_before END AS delayed_until
        """,
        keys,
        window_s,
    )
    return {r["key"]: (int(r["failures"]), r["delayed_until"]) for r in rows}


async def uncount(conn: asyncpg.Connection, *, key: str) -> None:
    """Take back one counted attempt of a key (it turned out to be a successful login)."""
    await conn.execute(
        """
        WITH gone AS (DELETE FROM login_throttle WHERE key = $1 AND failures <= 1)
        UPDATE login_throttle SET failures = failures - 1 WHERE key = $1 AND failures > 1
        """,
        key,
    )


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


async def remember(conn: asyncpg.Connection, *, user_id: UUID, network: str, max_age_days: int) -> None:
    """Record a successful login of the user from this network, forgetting their networks that aged out."""
    await conn.execute(
        """
        DELETE FROM login_known_networks
        WHERE user_id = $1 AND last_login_at < now() - make_interval(days => $2)
        """,
        user_id,
        max_age_days,
    )
    await conn.execute(
        """
        INSERT INTO login_known_networks (user_id, network) VALUES ($1, $2)
        ON CONFLICT (user_id, network) DO UPDATE SET last_login_at = now()
        """,
        user_id,
        network,
    )
