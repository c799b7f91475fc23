"""Who is calling and what they may do: credentials to a Caller, once per request.

Access tokens are verified locally (signature and expiry) and their login (`sid`) is checked against the
database; that check, the homes of a carer or family member, and API keys are cached for a few seconds
per process (TELECARE_SCOPE_CACHE_S), and dropped at once when a revocation is heard.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from uuid import UUID

import asyncpg

from accounts import service as accounts
from accounts.errors import Forbidden, NotFound
from accounts.service import AuthConfig, Origin
from accounts.tenancy import Principal, Role, Scope, manages, scope_without_lookup
from accounts.tokens import digest, read_access
from alerts.service import Actor

_CACHE_LIMIT = 50_000


@dataclass(frozen=True, slots=True)
class Caller:
    """The authenticated principal, the homes they may see, and where the request came from."""

    principal: Principal
    scope: Scope
    origin: Origin
    credential: Credential
    expires_at: datetime | None

    @property
    def actor(self) -> Actor:
        """The principal as the alert history records it."""
        if self.principal.kind == "user":
            return Actor("user", self.principal.id, self.principal.name)
        return Actor("api_key", self.principal.id, self.principal.name)

    def require_role(self, *roles: Role) -> None:
        """Forbidden unless the principal has one of the roles."""
        if self.principal.role not in roles:
            raise Forbidden(f"a {self.principal.role.value} may not do this")

    def require_organisation(self, organisation_id: UUID) -> None:
        """NotFound unless the organisation is the caller's own (platform admins: any)."""
        if self.principal.role is Role.PLATFORM_ADMIN:
            return
        if self.principal.organisation_id != organisation_id:
            raise NotFound(f"organisation {organisation_id} not found")

    def require_manager(self, organisation_id: UUID) -> None:
        """NotFound for another tenant's organisation, Forbidden unless the caller administers it."""
        self.require_organisation(organisation_id)
        if not manages(self.principal, organisation_id):
            raise Forbidden(
                f"only the organisation's coordinators may do this, not a {self.principal.role.value}"
            )

    async def audit(
        self,
        conn: asyncpg.Connection,
        *,
        action: str,
        target_type: str,
        target_id: object,
        organisation_id: UUID | None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        """Record a change the caller made (in the caller's transaction, so it commits with it)."""
        await accounts.audit(
            conn,
            self.principal,
            self.origin,
            action=action,
            target_type=target_type,
            target_id=target_id,
            organisation_id=organisation_id,
            detail=detail,
        )


@dataclass(frozen=True, slots=True)
class Credential:
    """What the caller presented: a bearer access token or an API key (kept to check it again later)."""

    kind: Literal["token", "api_key"]
    secret: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class Grant:
    """What a credential is worth now: who, which homes, and until when (None: until revoked)."""

    principal: Principal
    scope: Scope
    expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class _Verified:
    deadline: float
    principal: Principal
    session_id: UUID
    expires_at: datetime
    # The whole answer, when the principal alone decides the scope (admins, coordinators): the hot
    # path then builds nothing per request.
    grant: Grant | None


class Gatekeeper:
    """Turns a bearer token or an API key into a principal and scope, caching lookups briefly.

    A token's login is checked against the database on each cache miss; a login, user or API key that
    loses access here is forgotten at once, and other processes hear of it through `ACCESS_CHANNEL`.
    `generation` changes whenever something is forgotten, so long-lived holders of a Grant (the live
    stream) know to check theirs again.
    """

    def __init__(self, pool: asyncpg.Pool, config: AuthConfig, *, cache_s: float) -> None:
        self._pool = pool
        self._config = config
        self.cache_s = cache_s
        self.generation = 0
        self._scopes: dict[UUID, tuple[float, Scope]] = {}
        self._tokens: dict[str, _Verified] = {}
        self._keys: dict[bytes, tuple[float, Principal]] = {}
        # Logins ended recently: a cached token of one of them is checked again, whatever its entry says.
        self._ended: dict[UUID, float] = {}

    async def authenticate(self, credential: Credential) -> Grant:
        """What the credential grants now; NotAuthenticated if it is no longer valid."""
        if credential.kind == "api_key":
            return await self.from_api_key(credential.secret)
        return await self.from_token(credential.secret)

    async def from_token(self, token: str) -> Grant:
        """The principal of a valid access token of an open login, and their scope."""
        now = time.monotonic()
        cached = self._tokens.get(token)
        if cached is None or cached.deadline < now or (self._ended and cached.session_id in self._ended):
            claims = read_access(self._config.secret, token)
            async with self._pool.acquire() as conn:
                await accounts.session_valid(conn, claims)
            principal = Principal("user", claims.user_id, claims.name, claims.role, claims.organisation_id)
            # Verified once per few seconds, never past the token's own expiry.
            lifetime = min(self.cache_s, (claims.expires_at - datetime.now(UTC)).total_seconds())
            fixed = scope_without_lookup(principal)
            grant = Grant(principal, fixed, claims.expires_at) if fixed is not None else None
            cached = _Verified(now + lifetime, principal, claims.session_id, claims.expires_at, grant)
            self._tokens[token] = cached
            _bound(self._tokens)
        if cached.grant is not None:
            return cached.grant
        return Grant(cached.principal, await self._scope(cached.principal), cached.expires_at)

    async def from_api_key(self, key: str) -> Grant:
        """The integration of a valid API key, and its scope (its organisation)."""
        hashed = digest(key)
        cached = self._keys.get(hashed)
        if cached is None or cached[0] < time.monotonic():
            async with self._pool.acquire() as conn:
                principal = await accounts.api_key_principal(conn, key=key)
            self._keys[hashed] = cached = (time.monotonic() + self.cache_s, principal)
            _bound(self._keys)
        principal = cached[1]
        return Grant(principal, await self._scope(principal), None)

    async def _scope(self, principal: Principal) -> Scope:
        scope = scope_without_lookup(principal)
        if scope is not None:
            return scope
        cached = self._scopes.get(principal.id)
        if cached is not None and cached[0] >= time.monotonic():
            return cached[1]
        async with self._pool.acquire() as conn:
            scope = await accounts.scope_of(conn, principal)
        self._scopes[principal.id] = (time.monotonic() + self.cache_s, scope)
        _bound(self._scopes)
        return scope

    def forget(self) -> None:
        """Drop every cached scope, token and key (after a change to assignments, circles or keys here)."""
        self._scopes.clear()
        self._keys.clear()
        self._tokens.clear()
        self.generation += 1

    def session_ended(self, session_id: UUID) -> None:
        """A login was revoked: its access tokens are checked against the database from now on."""
        now = time.monotonic()
        # Kept well past any cache entry made before the revocation committed.
        horizon = now - self.cache_s - 60
        for ended in [sid for sid, at in self._ended.items() if at < horizon]:
            del self._ended[ended]
        self._ended[session_id] = now
        self.generation += 1

    def heard(self, payload: str) -> None:
        """A notification on ACCESS_CHANNEL from any API process (`what:id`, accounts.queries.announce)."""
        what, _, about = payload.partition(":")
        if what == "session":
            try:
                self.session_ended(UUID(about))
            except ValueError:
                self.forget()
        else:
            self.forget()

    def watch(self, caller: Caller) -> Watch:
        """A renewable view of the caller's grant, for a response that outlives its request."""
        # No generation yet: whatever was revoked since the request was authenticated, the first
        # wake-up checks again (a cache hit when nothing was).
        return Watch(self, caller.credential, time.monotonic(), -1, caller.expires_at)


@dataclass(slots=True, eq=False)
class Watch:
    """The grant of a long-lived response, checked again when the cache is stale or anything was revoked."""

    _gate: Gatekeeper
    _credential: Credential = field(repr=False)
    _checked: float
    _generation: int
    _expires: datetime | None

    def due(self) -> bool:
        """Whether the grant must be checked before anything more is sent."""
        stale = time.monotonic() - self._checked >= self._gate.cache_s
        return stale or self._generation != self._gate.generation or self.seconds_left() == 0

    def seconds_left(self) -> float | None:
        """Seconds until the credential expires (0 once it has); None for one that does not expire."""
        if self._expires is None:
            return None
        return max(0.0, (self._expires - datetime.now(UTC)).total_seconds())

    async def renew(self) -> Scope:
        """The credential's scope now; NotAuthenticated if it is no longer valid."""
        generation, checked = self._gate.generation, time.monotonic()
        grant = await self._gate.authenticate(self._credential)
        self._checked, self._generation, self._expires = checked, generation, grant.expires_at
        return grant.scope


def _bound(cache: dict[Any, Any]) -> None:
    # A crude bound: entries are cheap to rebuild, so start over rather than track recency.
    if len(cache) > _CACHE_LIMIT:
        cache.clear()
