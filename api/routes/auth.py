"""Logging in and out: the OAuth2 password flow, refresh-token rotation, invitations, and who am I."""

from __future__ import annotations

from urllib.parse import parse_qs

from fastapi import APIRouter, HTTPException, Request

from accounts import service as accounts
from accounts.schemas import AcceptIn, MeOut, RefreshIn, TokenOut, UserOut
from api.deps import AuthDep, CallerDep, PoolDep, ResourcesDep, client_address
from api.errors import problems

router = APIRouter(prefix="/v1", tags=["auth"])

_FORM = "application/x-www-form-urlencoded"
_TOKEN_FORM = {
    "requestBody": {
        "required": True,
        "content": {
            _FORM: {
                "schema": {
                    "type": "object",
                    "required": ["username", "password"],
                    "properties": {
                        "grant_type": {"type": "string", "enum": ["password"]},
                        "username": {
                            "type": "string",
                            "description": "the account's email",
                            "maxLength": 320,
                        },
                        "password": {"type": "string", "maxLength": 1000},
                        "scope": {"type": "string"},
                    },
                },
                "example": {
                    "grant_type": "password",
                    "username": "coordinator@example.org",
                    "password": "...",
                },
            }
        },
    }
}


async def _form(request: Request) -> dict[str, str]:
    if request.headers.get("content-type", "").split(";")[0].strip() != _FORM:
        raise HTTPException(422, f"send the login as {_FORM} form fields username and password")
    body = await request.body()
    if len(body) > 4096:
        raise HTTPException(422, "the form is too large")
    try:
        fields = parse_qs(body.decode(), keep_blank_values=True, strict_parsing=False)
    except (UnicodeDecodeError, ValueError) as exc:
        raise HTTPException(422, "the form could not be read") from exc
    return {key: values[0] for key, values in fields.items()}


@router.post(
    "/auth/token",
    response_model=TokenOut,
    openapi_extra=_TOKEN_FORM,
    responses=problems(401, 422, 429),
)
async def token(request: Request, pool: PoolDep, config: AuthDep) -> TokenOut:
    """Log in with email and password (OAuth2 password flow); failed attempts are rate-limited."""
    form = await _form(request)
    if form.get("grant_type", "password") != "password":
        raise HTTPException(422, "grant_type must be password")
    username, password = form.get("username", ""), form.get("password", "")
    if not username or not password or len(username) > 320 or len(password) > 1000:
        raise HTTPException(422, "username (the email) and password are required")
    pair = await accounts.login(
        pool, config, email=username, password=password, client_addr=client_address(request)
    )
    return TokenOut(
        access_token=pair.access_token, expires_in=pair.expires_in, refresh_token=pair.refresh_token
    )


@router.post("/auth/refresh", response_model=TokenOut, responses=problems(401, 422))
async def refresh(body: RefreshIn, resources: ResourcesDep) -> TokenOut:
    """Exchange a refresh token for a new access and refresh token; the old refresh token stops working.

    A refresh token presented a second time ends its whole login, access tokens included.
    """
    pair = await accounts.refresh(
        resources.pool,
        resources.auth,
        refresh_token=body.refresh_token,
        ended=resources.gate.session_ended,
    )
    return TokenOut(
        access_token=pair.access_token, expires_in=pair.expires_in, refresh_token=pair.refresh_token
    )


@router.post("/auth/logout", status_code=204, responses=problems(422))
async def logout(body: RefreshIn, resources: ResourcesDep) -> None:
    """Log out: the login's refresh tokens and its access tokens stop working at once."""
    await accounts.logout(
        resources.pool, refresh_token=body.refresh_token, ended=resources.gate.session_ended
    )


@router.post("/invitations/accept", response_model=UserOut, responses=problems(404, 422))
async def accept_invitation(body: AcceptIn, pool: PoolDep) -> UserOut:
    """Accept an invitation by setting a password; then log in with the email and that password."""
    async with pool.acquire() as conn:
        user = await accounts.accept_invitation(conn, token=body.token, password=body.password)
    return UserOut.model_validate(user, from_attributes=True)


@router.get("/me", response_model=MeOut, responses=problems(401))
async def me(caller: CallerDep) -> MeOut:
    """Who the caller is, and (for carers and family members) which homes they see."""
    p, scope = caller.principal, caller.scope
    homes = None if scope.everything or scope.organisation_id else sorted(scope.home_ids)
    return MeOut(
        kind=p.kind,
        id=p.id,
        name=p.name,
        role=p.role.value,
        organisation_id=p.organisation_id,
        home_ids=homes,
    )
