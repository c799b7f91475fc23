"""Accounts logic: logins and token rotation, rate limits, invitations, API keys, scopes and the audit log."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg

from accounts import queries, throttle, throttle_queries
from accounts.errors import Conflict, InvalidInput, NotAuthenticated, NotFound
from accounts.passwords import hash_new_password, verify_async
from accounts.tenancy import Principal, Role, Scope, scope_without_lookup
from accounts.throttle import ThrottleConfig
from accounts.tokens import AccessClaims, digest, issue_access, new_secret

REFRESH_PREFIX = "tcr_"
INVITATION_PREFIX = "tci_"
API_KEY_PREFIX = "tck_"

log = logging.getLogger(__name__)

# Told the id of a login that was just revoked, so this process stops accepting its access tokens at once.
SessionEnded = Callable[[UUID], None]


@dataclass(frozen=True, slots=True)
class AuthConfig:
    """How tokens are signed and how long things live; built from Settings at the entry point."""

    secret: str
    access_lifetime: timedelta = timedelta(minutes=15)
    refresh_lifetime: timedelta = timedelta(days=30)
    invitation_lifetime: timedelta = timedelta(days=7)
    throttle: ThrottleConfig = field(default_factory=ThrottleConfig)


@dataclass(frozen=True, slots=True)
class TokenPair:
    """What a login or a refresh hands out."""

    access_token: str
    refresh_token: str
    expires_in: int


@dataclass(frozen=True, slots=True)
class User:
    """A person's account (never the password hash)."""

    id: UUID
    email: str
    name: str
    role: str
    organisation_id: UUID | None
    active: bool
    activated: bool
    created_at: datetime

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> User:
        """Build from a users row selected with queries.USER_COLUMNS."""
        return cls(**{name: row[name] for name in cls.__slots__})


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a request came from, for the audit log."""

    client_addr: str | None
    user_agent: str | None


async def login(
    pool: asyncpg.Pool, config: AuthConfig, *, email: str, password: str, client_addr: str
) -> TokenPair:
    """Exchange email and password for tokens; failures slow further attempts (accounts.throttle)."""
    email = email.strip().lower()
    keys = throttle.keys_for(email, client_addr)
    async with pool.acquire() as conn:
        row = await queries.get_login(conn, email=email)
        # Asked for unknown emails too (of no user), so that the answer takes as long either way.
        known = await throttle_queries.is_known(
            conn,
            user_id=row["id"] if row else None,
            network=keys.network,
            max_age_days=config.throttle.known_network_days,
        )
        await throttle.claim(conn, config.throttle, keys, known=known)
    valid = await verify_async(row["password_hash"] if row else None, password)
    if row is None or not valid or not row["active"]:
        async with pool.acquire() as conn, conn.transaction():
            await throttle.failed(conn, config.throttle, keys, known=known)
        raise NotAuthenticated("wrong email or password")
    async with pool.acquire() as conn, conn.transaction():
        await throttle.succeeded(conn, config.throttle, keys, user_id=row["id"], known=known)
        return await _issue(conn, config, User.from_row(row), family_id=uuid.uuid4())


async def refresh(
    pool: asyncpg.Pool, config: AuthConfig, *, refresh_token: str, ended: SessionEnded
) -> TokenPair:
    """Exchange a refresh token for a new pair; a token presented twice ends its whole login."""
    async with pool.acquire() as conn, conn.transaction():
        row = await queries.take_refresh(conn, token_hash=digest(refresh_token))
        if row is None or row["expired"] or row["revoked_at"] is not None or not row["active"]:
            raise NotAuthenticated("the refresh token is not valid; log in again")
        replayed = row["used_at"] is not None
        if replayed:
            # Committed before refusing: whoever holds the newer token must log in again too.
            await queries.revoke_family(conn, family_id=row["family_id"])
            ended(row["family_id"])
        elif not await queries.session_valid(conn, session_id=row["family_id"], user_id=row["user_id"]):
            # A token refreshed while its login was being revoked escaped that UPDATE; its login is over.
            raise NotAuthenticated("the refresh token is not valid; log in again")
        else:
            await queries.mark_refresh_used(conn, token_id=row["id"])
            user = await queries.get_user(conn, user_id=row["user_id"])
            assert user is not None
            return await _issue(conn, config, User.from_row(user), family_id=row["family_id"])
    raise NotAuthenticated("the refresh token was already used; log in again")


async def logout(pool: asyncpg.Pool, *, refresh_token: str, ended: SessionEnded) -> None:
    """End the login the refresh token belongs to, access tokens included (an unknown token is ignored)."""
    async with pool.acquire() as conn, conn.transaction():
        row = await queries.take_refresh(conn, token_hash=digest(refresh_token))
        if row is not None:
            await queries.revoke_family(conn, family_id=row["family_id"])
            ended(row["family_id"])


async def end_login(conn: asyncpg.Connection, *, session_id: UUID, ended: SessionEnded) -> None:
    """End a login by its id (the console's logout): its refresh and access tokens stop working."""
    await queries.revoke_family(conn, family_id=session_id)
    ended(session_id)


async def open_session(conn: asyncpg.Connection, config: AuthConfig, user: User) -> TokenPair:
    """A new login for the user, without a password (what a successful password check leads to)."""
    return await _issue(conn, config, user, family_id=uuid.uuid4())


async def session_valid(conn: asyncpg.Connection, claims: AccessClaims) -> None:
    """NotAuthenticated unless the access token's login is still open and its user active."""
    if not await queries.session_valid(conn, session_id=claims.session_id, user_id=claims.user_id):
        raise NotAuthenticated("the session has ended (logged out, revoked or deactivated); log in again")


async def _issue(conn: asyncpg.Connection, config: AuthConfig, user: User, *, family_id: UUID) -> TokenPair:
    now = datetime.now(UTC)
    access = issue_access(
        config.secret,
        user_id=user.id,
        role=Role(user.role),
        organisation_id=user.organisation_id,
        name=user.name or user.email,
        session_id=family_id,
        lifetime=config.access_lifetime,
        now=now,
    )
    secret = new_secret(REFRESH_PREFIX)
    await queries.insert_refresh(
        conn,
        user_id=user.id,
        family_id=family_id,
        token_hash=digest(secret),
        expires_at=now + config.refresh_lifetime,
    )
    return TokenPair(access, secret, int(config.access_lifetime.total_seconds()))


async def create_user(
    conn: asyncpg.Connection,
    *,
    email: str,
    name: str,
    role: Role,
    organisation_id: UUID | None,
    password: str | None = None,
) -> User:
    """Create an account; without a password nobody can log in as it until an invitation is accepted."""
    if role is Role.INTEGRATION:
        raise InvalidInput("integrations use API keys, not accounts")
    # A family member too: their provider's circles of care are the only ones they can join.
    if role in (Role.COORDINATOR, Role.CARER, Role.FAMILY) and organisation_id is None:
        what = "family member" if role is Role.FAMILY else role.value
        raise InvalidInput(f"a {what} belongs to an organisation")
    if role is Role.PLATFORM_ADMIN and organisation_id is not None:
        raise InvalidInput("a platform admin belongs to no organisation")
    hashed = None
    if password is not None:
        hashed = await hash_new_password(password, user_inputs=_guessable(email, name))
    try:
        row = await queries.insert_user(
            conn,
            email=email.strip().lower(),
            name=name,
            role=role.value,
            organisation_id=organisation_id,
            password_hash=hashed,
        )
    except asyncpg.ForeignKeyViolationError as exc:
        raise NotFound(f"organisation {organisation_id} not found") from exc
    if row is None:
        raise Conflict(f"an account with email {email} already exists")
    return User.from_row(row)


async def invite(
    conn: asyncpg.Connection,
    *,
    lifetime: timedelta,
    email: str,
    name: str,
    role: Role,
    organisation_id: UUID | None,
    by: UUID | None,
    reveal: Callable[[UUID | None], bool] = lambda _: True,
) -> tuple[User, str, datetime]:
    """Create an account without a password and an invitation to set one; returns the token once.

    An email already in use answers Conflict only if reveal(its account's organisation) is true (the
    inviter may see that account); otherwise the answer looks like a new invitation but creates nothing
    and changes nobody, so that invitations are no oracle of who has an account elsewhere.
    """
    try:
        async with conn.transaction():
            user = await create_user(conn, email=email, name=name, role=role, organisation_id=organisation_id)
            token = new_secret(INVITATION_PREFIX)
            expires = datetime.now(UTC) + lifetime
            await queries.insert_invitation(
                conn, user_id=user.id, token_hash=digest(token), created_by=by, expires_at=expires
            )
    except Conflict:
        existing = await queries.get_login(conn, email=email.strip().lower())
        if existing is None or reveal(existing["organisation_id"]):
            raise
        log.info(
            "invitation by %s of account %s of another tenant answered without effect", by, existing["id"]
        )
        return _unsent_invitation(email, name, role, organisation_id, lifetime)
    return user, token, expires


def _unsent_invitation(
    email: str, name: str, role: Role, organisation_id: UUID | None, lifetime: timedelta
) -> tuple[User, str, datetime]:
    # Shaped like a real one; its id matches no account and its token no invitation.
    now = datetime.now(UTC)
    user = User(uuid.uuid4(), email.strip().lower(), name, role.value, organisation_id, True, False, now)
    return user, new_secret(INVITATION_PREFIX), now + lifetime


async def accept_invitation(conn: asyncpg.Connection, *, token: str, password: str) -> User:
    """Set the invited account's password (checked as every new password is); the invitation is used up."""
    async with conn.transaction():
        row = await queries.take_invitation(conn, token_hash=digest(token))
        if row is None:
            raise NotFound("the invitation is unknown, used or expired")
        invited = await queries.get_user(conn, user_id=row["user_id"])
        assert invited is not None
        hashed = await hash_new_password(password, user_inputs=_guessable(invited["email"], invited["name"]))
        await queries.set_password(conn, user_id=row["user_id"], password_hash=hashed)
        await queries.mark_invitation_accepted(conn, invitation_id=row["id"])
        user = await queries.get_user(conn, user_id=row["user_id"])
    assert user is not None
    return User.from_row(user)


def _guessable(email: str, name: str) -> list[str]:
    # What an attacker who knows the person tries first: their email, its local part, their names.
    email = email.strip().lower()
    return [email, email.split("@")[0], *name.split()]


async def set_active(conn: asyncpg.Connection, *, user_id: UUID, active: bool) -> User:
    """Deactivate (ending every login) or reactivate an account."""
    async with conn.transaction():
        row = await queries.set_active(conn, user_id=user_id, active=active)
        if row is None:
            raise NotFound(f"user {user_id} not found")
        if not active:
            await queries.revoke_user_tokens(conn, user_id=user_id)
    return User.from_row(row)


async def ensure_platform_admin(pool: asyncpg.Pool, *, email: str, password: str) -> bool:
    """Create this platform admin if there is none yet (first start); whether one was created."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext('telecare-bootstrap-admin'))")
        if await queries.count_platform_admins(conn):
            return False
        await create_user(
            conn,
            email=email,
            name="Platform admin",
            role=Role.PLATFORM_ADMIN,
            organisation_id=None,
            password=password,
        )
        return True


async def create_api_key(
    conn: asyncpg.Connection, *, organisation_id: UUID, name: str, by: UUID | None
) -> tuple[asyncpg.Record, str]:
    """A new API key for an organisation; the key itself is returned this once."""
    key = new_secret(API_KEY_PREFIX)
    try:
        row = await queries.insert_api_key(
            conn,
            organisation_id=organisation_id,
            name=name,
            prefix=key[:10],
            key_hash=digest(key),
            created_by=by,
        )
    except asyncpg.ForeignKeyViolationError as exc:
        raise NotFound(f"organisation {organisation_id} not found") from exc
    return row, key


async def api_key_principal(conn: asyncpg.Connection, *, key: str) -> Principal:
    """The integration an API key stands for; NotAuthenticated if unknown or revoked."""
    row = await queries.get_api_key(conn, key_hash=digest(key))
    if row is None:
        raise NotAuthenticated("the API key is not valid")
    return Principal("api_key", row["id"], row["name"], Role.INTEGRATION, row["organisation_id"])


async def scope_of(conn: asyncpg.Connection, principal: Principal) -> Scope:
    """The homes the principal may see (a lookup only for carers and family members)."""
    scope = scope_without_lookup(principal)
    if scope is not None:
        return scope
    if principal.role not in (Role.CARER, Role.FAMILY):
        return Scope()
    homes = await queries.linked_homes(conn, user_id=principal.id, role=principal.role.value)
    if homes is None:
        raise NotAuthenticated("the account is deactivated")
    return Scope(home_ids=frozenset(homes))


async def audit(
    conn: asyncpg.Connection,
    principal: Principal,
    origin: Origin,
    *,
    action: str,
    target_type: str,
    target_id: object,
    organisation_id: UUID | None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Record a change a person or integration made, with where the request came from."""
    await queries.insert_audit(
        conn,
        actor_kind=principal.kind,
        actor_id=principal.id,
        actor_name=principal.name,
        organisation_id=organisation_id,
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        detail=detail or {},
        client_addr=origin.client_addr,
        user_agent=(origin.user_agent or "")[:500] or None,
    )
