"""Who is calling and what they may do: credentials to a Caller, once per request.

Access tokens are verified locally (signature and expiry, no database round trip); the homes of a carer
or family member, and API keys, are looked up and cached for a few seconds per process.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
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


class Gatekeeper:
    """Turns a bearer token or an API key into a principal and scope, caching lookups briefly."""

    def __init__(self, pool: asyncpg.Pool, config: AuthConfig, *, cache_s: float) -> None:
        self._pool = pool
        self._config = config
        self._cache_s = cache_s
        self._scopes: dict[UUID, tuple[float, Scope]] = {}
        self._tokens: dict[str, tuple[float, Principal]] = {}
        self._keys: dict[bytes, tuple[float, Principal]] = {}

    async def from_token(self, token: str) -> tuple[Principal, Scope]:
        """The principal of a valid access token, and their scope."""
        now = time.monotonic()
        cached = self._tokens.get(token)
        if cached is None or cached[0] < now:
            claims = read_access(self._config.secret, token)
            principal = Principal("user", claims.user_id, claims.name, claims.role, claims.organisation_id)
            # Verified once per few seconds, never past the token's own expiry.
            lifetime = min(self._cache_s, (claims.expires_at - datetime.now(UTC)).total_seconds())
            self._tokens[token] = cached = (now + lifetime, principal)
            _bound(self._tokens)
        return cached[1], await self._scope(cached[1])

    async def from_api_key(self, key: str) -> tuple[Principal, Scope]:
        """The integration of a valid API key, and its scope (its organisation)."""
        hashed = digest(key)
        cached = self._keys.get(hashed)
        if cached is None or cached[0] < time.monotonic():
            async with self._pool.acquire() as conn:
                principal = await accounts.api_key_principal(conn, key=key)
            self._keys[hashed] = cached = (time.monotonic() + self._cache_s, principal)
            _bound(self._keys)
        principal = cached[1]
        return principal, await self._scope(principal)

    async def _scope(self, principal: Principal) -> Scope:
        scope = scope_without_lookup(principal)
        if scope is not None:
            return scope
        cached = self._scopes.get(principal.id)
        if cached is not None and cached[0] >= time.monotonic():
            return cached[1]
        async with self._pool.acquire() as conn:
            scope = await accounts.scope_of(conn, principal)
        self._scopes[principal.id] = (time.monotonic() + self._cache_s, scope)
        _bound(self._scopes)
        return scope

    def forget(self) -> None:
        """Drop every cached scope and key (after a change to assignments, circles or keys here)."""
        self._scopes.clear()
        self._keys.clear()
        self._tokens.clear()


def _bound(cache: dict[Any, Any]) -> None:
    # A crude bound: entries are cheap to rebuild, so start over rather than track recency.
    if len(cache) > _CACHE_LIMIT:
        cache.clear()
