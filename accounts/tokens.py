"""Access tokens (JWT, HS256) and opaque secrets (refresh tokens, invitations, API keys)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

import jwt

from accounts.errors import NotAuthenticated
from accounts.tenancy import Role

ALGORITHM = "HS256"
_ISSUER = "telecare"


@dataclass(frozen=True, slots=True)
class AccessClaims:
    """What an access token says about its holder; enough to compute their scope without a lookup."""

    user_id: UUID
    role: Role
    organisation_id: UUID | None
    name: str
    expires_at: datetime
    # The login (refresh-token family) the token was issued for: logging out or a replayed refresh
    # token ends it, and with it this token (api.security checks it on each cache miss).
    session_id: UUID


def issue_access(
    secret: str,
    *,
    user_id: UUID,
    role: Role,
    organisation_id: UUID | None,
    name: str,
    session_id: UUID,
    lifetime: timedelta,
    now: datetime | None = None,
) -> str:
    """A signed access token for the user, bound to one login (`sid`)."""
    issued = now or datetime.now(UTC)
    claims = {
        "iss": _ISSUER,
        "sub": str(user_id),
        "role": role.value,
        "org": str(organisation_id) if organisation_id else None,
        "name": name,
        "iat": int(issued.timestamp()),
        "exp": int((issued + lifetime).timestamp()),
        "typ": "access",
        "sid": str(session_id),
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def read_access(secret: str, token: str) -> AccessClaims:
    """Verify an access token's signature and expiry; NotAuthenticated if it fails either."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            issuer=_ISSUER,
            options={"require": ["exp", "sub", "iat", "iss", "sid"]},
        )
        if claims.get("typ") != "access":
            raise NotAuthenticated("not an access token")
        org = claims.get("org")
        return AccessClaims(
            user_id=UUID(claims["sub"]),
            role=Role(claims["role"]),
            organisation_id=UUID(org) if org else None,
            name=str(claims.get("name", "")),
            expires_at=datetime.fromtimestamp(claims["exp"], UTC),
            session_id=UUID(claims["sid"]),
        )
    except jwt.ExpiredSignatureError as exc:
        raise NotAuthenticated("the access token has expired; refresh it") from exc
    except jwt.MissingRequiredClaimError as exc:
        # Tokens from before sessions existed carry no `sid`: they cannot be revoked, so they are refused.
        raise NotAuthenticated("the access token is not valid; log in again") from exc
    except (jwt.InvalidTokenError, KeyError, ValueError) as exc:
        raise NotAuthenticated("the access token is not valid") from exc


def new_secret(prefix: str) -> str:
    """A new opaque secret, recognisable by its prefix (for example `tcr_` for refresh tokens)."""
    return prefix + secrets.token_urlsafe(32)


def digest(secret: str) -> bytes:
    """SHA-256 of a high-entropy secret, as stored (a slow hash buys nothing for 256 random bits)."""
    return hashlib.sha256(secret.encode()).digest()
