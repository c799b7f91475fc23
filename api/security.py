"""Who may call: for now one operator token (accounts, roles and tenancy come with the accounts work)."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.deps import SettingsDep

_bearer = HTTPBearer(auto_error=False, description="the operator token (TELECARE_ADMIN_TOKEN)")


def require_admin(
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """Allow only a caller presenting the operator token; refuse everyone when none is configured."""
    expected = settings.admin_token.get_secret_value() if settings.admin_token else None
    if credentials is None:
        raise HTTPException(401, "a bearer token is required", headers={"WWW-Authenticate": "Bearer"})
    if expected is None or not hmac.compare_digest(credentials.credentials.encode(), expected.encode()):
        raise HTTPException(401, "the token is not valid", headers={"WWW-Authenticate": "Bearer"})


AdminDep = Depends(require_admin)
