"""Console logins: an HttpOnly, SameSite, (by default) Secure cookie holding a signed access token, and
the CSRF token every form and action carries.

The cookie is an access token like the API's (accounts.tokens), bound to the login the password check
opened and living as long as a console login does (TELECARE_CONSOLE_SESSION_HOURS). It is checked by the
API's own Gatekeeper, so logging out, a revoked login or a deactivated account ends it as it ends the
API's tokens, and nothing has to be refreshed (refreshing from many concurrent page requests would
replay the rotating refresh token and end the login). Nothing is kept in the browser's storage.

CSRF: a logged-in page's token is an HMAC of the login's id under the server's secret (nothing stored;
stable while the login lasts); the login form, before any login exists, uses a random value kept in a
short-lived cookie of its own and echoed by the form (double submit).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated
from urllib.parse import parse_qs, quote

from fastapi import Depends, Request, Response

from accounts import service as accounts
from accounts.errors import NotAuthenticated
from accounts.service import Origin
from accounts.tenancy import Role
from accounts.tokens import issue_access, read_access
from api.deps import client_address, get_resources
from api.resources import Resources
from api.security import Caller, Credential
from console.errors import CsrfRefused, LoginRequired

COOKIE = "telecare_console"
LOGIN_COOKIE = "telecare_console_login"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"
PATH = "/console"
MAX_FORM_BYTES = 16_384


@dataclass(frozen=True, slots=True)
class Viewer:
    """A logged-in console user: the API's Caller, and the CSRF token of their pages."""

    caller: Caller
    csrf: str

    @property
    def role(self) -> Role:
        """The user's role."""
        return self.caller.principal.role

    @property
    def family(self) -> bool:
        """A family member: sees only the alert kinds for everyone."""
        return self.role is Role.FAMILY

    @property
    def staff(self) -> bool:
        """A coordinator or platform admin: sees the board and the homes list."""
        return self.role in (Role.COORDINATOR, Role.PLATFORM_ADMIN)


def csrf_for(secret: str, session_id: object) -> str:
    """The CSRF token of a login: an HMAC of its id, so it needs no storage and cannot be guessed."""
    return hmac.new(secret.encode(), f"console-csrf:{session_id}".encode(), hashlib.sha256).hexdigest()


async def read_form(request: Request) -> dict[str, str]:
    """The request's urlencoded form fields (first value of each); a form too large is refused."""
    return {key: values[0] for key, values in (await read_form_lists(request)).items()}


async def read_form_lists(request: Request) -> dict[str, list[str]]:
    """The request's urlencoded form fields with every value (checkboxes of one name)."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise CsrfRefused("the form is too large")
    try:
        return parse_qs(body.decode(), keep_blank_values=True)
    except (UnicodeDecodeError, ValueError) as exc:
        raise CsrfRefused("the form could not be read") from exc


async def viewer(request: Request) -> Viewer:
    """The logged-in user of this request; LoginRequired (a redirect to the login page) otherwise."""
    resources: Resources = await get_resources(request)
    token = request.cookies.get(COOKIE)
    if not token:
        raise LoginRequired(_here(request))
    try:
        grant = await resources.gate.authenticate(Credential("token", token))
    except NotAuthenticated as exc:
        raise LoginRequired(_here(request)) from exc
    origin = Origin(client_address(request), request.headers.get("user-agent"))
    caller = Caller(grant.principal, grant.scope, origin, Credential("token", token), grant.expires_at)
    claims = read_access(resources.auth.secret, token)
    return Viewer(caller, csrf_for(resources.auth.secret, claims.session_id))


async def acting_viewer(request: Request) -> Viewer:
    """The logged-in user of a state-changing request, whose CSRF token (field or header) must match."""
    current = await viewer(request)
    given = request.headers.get(CSRF_HEADER)
    if given is None:
        given = (await read_form(request)).get(CSRF_FIELD)
    if not given or not hmac.compare_digest(given, current.csrf):
        raise CsrfRefused("the form's security token is missing or wrong; reload the page and try again")
    return current


def _here(request: Request) -> str:
    query = f"?{request.url.query}" if request.url.query else ""
    return f"{request.url.path}{query}"


def login_url(next_path: str) -> str:
    """The login page, coming back to next_path afterwards."""
    return f"{PATH}/login?next={quote(safe_next(next_path))}"


def safe_next(next_path: str | None) -> str:
    """Where to go after logging in: a console path only (never another site)."""
    if not next_path or not next_path.startswith(PATH + "/") or next_path.startswith("//"):
        return PATH + "/"
    if "\\" in next_path or "\n" in next_path or "\r" in next_path:
        return PATH + "/"
    return next_path


def set_login_nonce(response: Response, *, secure: bool) -> str:
    """A fresh double-submit value for the login form, set on the response in its own cookie."""
    nonce = secrets.token_urlsafe(24)
    response.set_cookie(
        LOGIN_COOKIE, nonce, max_age=1800, path=PATH, secure=secure, httponly=True, samesite="strict"
    )
    return nonce


def check_login_nonce(request: Request, given: str | None) -> None:
    """CsrfRefused unless the login form echoes the value of its cookie."""
    expected = request.cookies.get(LOGIN_COOKIE)
    if not expected or not given or not hmac.compare_digest(expected, given):
        raise CsrfRefused("the login form's security token is missing or wrong; reload the page")


async def log_in(resources: Resources, request: Request, *, email: str, password: str) -> str:
    """Check the password (rate-limited as the API's login is); the console cookie's value."""
    pair = await accounts.login(
        resources.pool,
        resources.auth,
        email=email,
        password=password,
        client_addr=client_address(request),
    )
    claims = read_access(resources.auth.secret, pair.access_token)
    return issue_access(
        resources.auth.secret,
        user_id=claims.user_id,
        role=claims.role,
        organisation_id=claims.organisation_id,
        name=claims.name,
        session_id=claims.session_id,
        lifetime=timedelta(hours=resources.settings.console_session_hours),
    )


def set_session(response: Response, token: str, resources: Resources) -> None:
    """Put the login in the console cookie."""
    response.set_cookie(
        COOKIE,
        token,
        max_age=int(resources.settings.console_session_hours * 3600),
        path=PATH,
        secure=resources.settings.console_cookie_secure,
        httponly=True,
        samesite="lax",
    )
    response.delete_cookie(LOGIN_COOKIE, path=PATH)


async def log_out(resources: Resources, current: Viewer, response: Response) -> None:
    """End the login (its API tokens too) in every process, and drop the cookie."""
    claims = read_access(resources.auth.secret, current.caller.credential.secret)
    async with resources.pool.acquire() as conn, conn.transaction():
        await accounts.end_login(conn, session_id=claims.session_id, ended=resources.gate.session_ended)
        await current.caller.audit(
            conn,
            action="console.logout",
            target_type="user",
            target_id=claims.user_id,
            organisation_id=claims.organisation_id,
        )
    response.delete_cookie(COOKIE, path=PATH)


ViewerDep = Annotated[Viewer, Depends(viewer)]
ActingDep = Annotated[Viewer, Depends(acting_viewer)]
