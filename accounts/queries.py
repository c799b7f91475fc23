"""Accounts SQL: users, refresh tokens, invitations, API keys and the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

USER_COLUMNS = (
    "id, email, name, role, organisation_id, active, created_at, password_hash IS NOT NULL AS activated"
)


async def insert_user(
    conn: asyncpg.Connection,
    *,
    email: str,
    name: str,
    role: str,
    organisation_id: UUID | None,
    password_hash: str | None,
) -> asyncpg.Record | None:
    """Create a user; None if the email is taken."""
    return await conn.fetchrow(
        f"""
        INSERT INTO users (email, name, role, organisation_id, password_hash)
        VALUES ($1, $2, $3, $4, $5) ON CONFLICT (email) DO NOTHING
        RETURNING {USER_COLUMNS}
        """,
        email,
        name,
        role,
        organisation_id,
        password_hash,
    )


async def get_user(conn: asyncpg.Connection, *, user_id: UUID) -> asyncpg.Record | None:
    """A user (without the password hash), or None."""
    return await conn.fetchrow(f"SELECT {USER_COLUMNS} FROM users WHERE id = $1", user_id)


async def get_login(conn: asyncpg.Connection, *, email: str) -> asyncpg.Record | None:
    """A user with the password hash, by email, for logging in."""
    return await conn.fetchrow(f"SELECT {USER_COLUMNS}, password_hash FROM users WHERE email = $1", email)


async def set_password(conn: asyncpg.Connection, *, user_id: UUID, password_hash: str) -> None:
    """Replace a user's password hash."""
    await conn.execute("UPDATE users SET password_hash = $2 WHERE id = $1", user_id, password_hash)


async def set_active(conn: asyncpg.Connection, *, user_id: UUID, active: bool) -> asyncpg.Record | None:
    """Activate or deactivate a user; returns the user."""
    return await conn.fetchrow(
        f"UPDATE users SET active = $2 WHERE id = $1 RETURNING {USER_COLUMNS}", user_id, active
    )


async def list_users(
    conn: asyncpg.Connection,
    *,
    organisation_id: UUID | None,
    after: tuple[datetime, UUID] | None,
    limit: int,
) -> list[asyncpg.Record]:
    """Users oldest first (of one organisation, or all), after a keyset position."""
    rows: list[asyncpg.Record] = await conn.fetch(
        f"""
        SELECT {USER_COLUMNS} FROM users
        WHERE ($1::uuid IS NULL OR organisation_id = $1)
          AND ($2::timestamptz IS NULL OR (created_at, id) > ($2, $3))
        ORDER BY created_at, id LIMIT $4
        """,
        organisation_id,
        after[0] if after else None,
        after[1] if after else None,
        limit,
    )
    return rows


async def count_platform_admins(conn: asyncpg.Connection) -> int:
    """How many active platform admins exist."""
    return int(await conn.fetchval("SELECT count(*) FROM users WHERE role = 'platform_admin' AND active"))


async def insert_refresh(
    conn: asyncpg.Connection, *, user_id: UUID, family_id: UUID, token_hash: bytes, expires_at: datetime
) -> None:
    """Store a refresh token's hash."""
    await conn.execute(
        "INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at) VALUES ($1, $2, $3, $4)",
        user_id,
        family_id,
        token_hash,
        expires_at,
    )


async def take_refresh(conn: asyncpg.Connection, *, token_hash: bytes) -> asyncpg.Record | None:
    """A refresh token with its user, locked, or None."""
    return await conn.fetchrow(
        """
        SELECT t.id, t.family_id, t.expires_at, t.used_at, t.revoked_at, t.expires_at < now() AS expired,
               u.id AS user_id, u.role, u.organisation_id, u.name, u.active
        FROM refresh_tokens t JOIN users u ON u.id = t.user_id
        WHERE t.token_hash = $1 FOR UPDATE OF t
        """,
        token_hash,
    )


async def mark_refresh_used(conn: asyncpg.Connection, *, token_id: UUID) -> None:
    """A refresh token was exchanged for a new one."""
    await conn.execute("UPDATE refresh_tokens SET used_at = now() WHERE id = $1", token_id)


async def revoke_family(conn: asyncpg.Connection, *, family_id: UUID) -> None:
    """Revoke every refresh token descended from the same login, and so the login's access tokens."""
    await conn.execute(
        "UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL", family_id
    )
    await announce(conn, what="session", about=family_id)


async def revoke_user_tokens(conn: asyncpg.Connection, *, user_id: UUID) -> None:
    """Revoke every refresh token of a user (deactivation), and so every access token of theirs."""
    await conn.execute(
        "UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL", user_id
    )
    await announce(conn, what="user", about=user_id)


async def session_valid(conn: asyncpg.Connection, *, session_id: UUID, user_id: UUID) -> bool:
    """Whether a login of this user exists, none of its refresh tokens is revoked, and the user is active."""
    # Revocation marks every token of the family, but one refreshed concurrently may escape the
    # UPDATE: any revoked token ends the login.
    valid = await conn.fetchval(
        """
        SELECT bool_and(t.revoked_at IS NULL AND u.active)
        FROM refresh_tokens t JOIN users u ON u.id = t.user_id
        WHERE t.family_id = $1 AND t.user_id = $2
        """,
        session_id,
        user_id,
    )
    return bool(valid)


ACCESS_CHANNEL = "telecare_access"


async def announce(conn: asyncpg.Connection, *, what: str, about: UUID) -> None:
    """Tell every API process, when the transaction commits, that a login, user or API key lost access."""
    await conn.execute("SELECT pg_notify($1, $2)", ACCESS_CHANNEL, f"{what}:{about}")


async def insert_invitation(
    conn: asyncpg.Connection,
    *,
    user_id: UUID,
    token_hash: bytes,
    created_by: UUID | None,
    expires_at: datetime,
) -> None:
    """Store an invitation's hash."""
    await conn.execute(
        "INSERT INTO invitations (user_id, token_hash, created_by, expires_at) VALUES ($1, $2, $3, $4)",
        user_id,
        token_hash,
        created_by,
        expires_at,
    )


async def take_invitation(conn: asyncpg.Connection, *, token_hash: bytes) -> asyncpg.Record | None:
    """An unaccepted, unexpired invitation, locked, or None."""
    return await conn.fetchrow(
        """
        SELECT id, user_id FROM invitations
        WHERE token_hash = $1 AND accepted_at IS NULL AND expires_at > now() FOR UPDATE
        """,
        token_hash,
    )


async def mark_invitation_accepted(conn: asyncpg.Connection, *, invitation_id: UUID) -> None:
    """The invitation was used."""
    await conn.execute("UPDATE invitations SET accepted_at = now() WHERE id = $1", invitation_id)


async def insert_api_key(
    conn: asyncpg.Connection,
    *,
    organisation_id: UUID,
    name: str,
    prefix: str,
    key_hash: bytes,
    created_by: UUID | None,
) -> asyncpg.Record:
    """Store an API key's hash; returns the row (without the hash)."""
    return await conn.fetchrow(
        """
        INSERT INTO api_keys (organisation_id, name, prefix, key_hash, created_by) VALUES ($1, $2, $3, $4, $5)
        RETURNING id, organisation_id, name, prefix, created_at, revoked_at
        """,
        organisation_id,
        name,
        prefix,
        key_hash,
        created_by,
    )


async def get_api_key(conn: asyncpg.Connection, *, key_hash: bytes) -> asyncpg.Record | None:
    """An unrevoked API key by its hash, or None."""
    return await conn.fetchrow(
        "SELECT id, organisation_id, name FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL", key_hash
    )


async def list_api_keys(conn: asyncpg.Connection, *, organisation_id: UUID) -> list[asyncpg.Record]:
    """An organisation's API keys, oldest first."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT id, organisation_id, name, prefix, created_at, revoked_at FROM api_keys
        WHERE organisation_id = $1 ORDER BY created_at, id
        """,
        organisation_id,
    )
    return rows


async def get_api_key_by_id(conn: asyncpg.Connection, *, key_id: UUID) -> asyncpg.Record | None:
    """An API key (revoked or not) by id."""
    return await conn.fetchrow(
        "SELECT id, organisation_id, name, prefix, created_at, revoked_at FROM api_keys WHERE id = $1", key_id
    )


async def revoke_api_key(conn: asyncpg.Connection, *, key_id: UUID) -> None:
    """Revoke an API key (a second revoke keeps the first time)."""
    await conn.execute("UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1", key_id)
    await announce(conn, what="api_key", about=key_id)


async def insert_audit(conn: asyncpg.Connection, **entry: Any) -> None:
    """Append to the audit log (keyword arguments name its columns)."""
    columns = ", ".join(entry)
    params = ", ".join(f"${i}" for i in range(1, len(entry) + 1))
    await conn.execute(f"INSERT INTO audit_log ({columns}) VALUES ({params})", *entry.values())


async def list_audit(
    conn: asyncpg.Connection, *, organisation_id: UUID | None, before_id: int | None, limit: int
) -> list[asyncpg.Record]:
    """Audit entries newest first (of one organisation, or all), before an id."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT * FROM audit_log
        WHERE ($1::uuid IS NULL OR organisation_id = $1) AND ($2::bigint IS NULL OR id < $2)
        ORDER BY id DESC LIMIT $3
        """,
        organisation_id,
        before_id,
        limit,
    )
    return rows


async def linked_homes(conn: asyncpg.Connection, *, user_id: UUID, role: str) -> list[UUID] | None:
    """The homes a carer is assigned to or a family member is linked to; None if the user is inactive."""
    table = "carer_assignments" if role == "carer" else "care_circles"
    row = await conn.fetchrow(
        f"""
        SELECT u.active, coalesce(array_agg(l.home_id) FILTER (WHERE l.home_id IS NOT NULL), '{{}}') AS homes
        FROM users u LEFT JOIN {table} l ON l.user_id = u.id
        WHERE u.id = $1 GROUP BY u.active
        """,
        user_id,
    )
    if row is None or not row["active"]:
        return None
    return list(row["homes"])
