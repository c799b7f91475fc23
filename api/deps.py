"""Dependencies routes declare: resources owned by the lifespan, and the caller, through Annotated aliases.

`CallerDep` authenticates the request and computes its Scope once; every tenant read takes that scope.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Annotated

import asyncpg
from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer
from fastapi.security.utils import get_authorization_scheme_param
from pydantic import SecretStr

from accounts.errors import NotAuthenticated
from accounts.service import AuthConfig, Origin
from api.resources import Resources
from api.security import Caller, Credential
from api.stream import Broadcaster
from devices.dynsec import DynsecAdmin
from kernel.settings import Settings

_bearer = OAuth2PasswordBearer(
    tokenUrl="/v1/auth/token", auto_error=False, description="an access token from /v1/auth/token"
)
_API_KEY_HEADER = "X-API-Key"
_api_key = APIKeyHeader(name=_API_KEY_HEADER, auto_error=False, description="an organisation's API key")


def _resources(request: Request) -> Resources:
    resources: Resources = request.app.state.resources
    return resources


# Every dependency is `async def`: FastAPI runs a plain `def` dependency in a worker thread.
async def get_resources(request: Request) -> Resources:
    """The lifespan's resources."""
    return _resources(request)


async def get_pool(request: Request) -> asyncpg.Pool:
    """The database pool."""
    return request_pool(request)


def request_pool(request: Request) -> asyncpg.Pool:
    """The database pool, outside dependency solving (api.hotpath)."""
    return _resources(request).pool


async def get_settings(request: Request) -> Settings:
    """The settings the app was built with."""
    return _resources(request).settings


async def get_dynsec(request: Request) -> DynsecAdmin:
    """The broker's dynamic-security admin."""
    return _resources(request).dynsec


async def get_auth(request: Request) -> AuthConfig:
    """How tokens are signed and how long they live."""
    return _resources(request).auth


async def get_streams(request: Request) -> Broadcaster:
    """The live alert stream."""
    return _resources(request).streams


def client_address(request: Request) -> str:
    """The client's address as this process sees it (behind a proxy: run uvicorn with --proxy-headers)."""
    return request.client.host if request.client else "unknown"


async def authenticate(
    request: Request,
    token: Annotated[str | None, Depends(_bearer)],
    api_key: Annotated[str | None, Depends(_api_key)],
) -> Caller:
    """The caller of this request, from a bearer access token or an X-API-Key header; 401 without."""
    return await _caller(request, token, api_key)


async def request_caller(request: Request) -> Caller:
    """`authenticate` for routes built without dependency solving (api.hotpath): the same headers read."""
    scheme, token = get_authorization_scheme_param(request.headers.get("authorization"))
    # As the two security schemes above do with auto_error off: a missing credential is None.
    bearer = token if scheme.lower() == "bearer" and token else None
    return await _caller(request, bearer, request.headers.get(_API_KEY_HEADER) or None)


async def _caller(request: Request, token: str | None, api_key: str | None) -> Caller:
    if api_key:
        credential = Credential("api_key", api_key)
    elif token:
        credential = Credential("token", token)
    else:
        raise NotAuthenticated("log in: send `Authorization: Bearer <access token>` or an X-API-Key header")
    grant = await _resources(request).gate.authenticate(credential)
    origin = Origin(client_address(request), request.headers.get("user-agent"))
    return Caller(grant.principal, grant.scope, origin, credential, grant.expires_at)


def metrics_guard(token: SecretStr | None) -> Callable[[Request], Awaitable[None]]:
    """A dependency for /metrics: with a token set, only a request bearing it gets through (else 401)."""
    expected = token.get_secret_value().encode() if token else None

    async def guard(request: Request) -> None:
        if expected is None:
            return
        scheme, given = get_authorization_scheme_param(request.headers.get("authorization"))
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.encode(), expected):
            raise NotAuthenticated("/metrics wants `Authorization: Bearer <TELECARE_METRICS_TOKEN>`")

    return guard


ResourcesDep = Annotated[Resources, Depends(get_resources)]
PoolDep = Annotated[asyncpg.Pool, Depends(get_pool)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
DynsecDep = Annotated[DynsecAdmin, Depends(get_dynsec)]
AuthDep = Annotated[AuthConfig, Depends(get_auth)]
StreamsDep = Annotated[Broadcaster, Depends(get_streams)]
CallerDep = Annotated[Caller, Depends(authenticate)]
