"""Logging in and out of the console, and where each role lands."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from accounts.errors import NotAuthenticated, RateLimited
from accounts.tenancy import Role
from api.deps import ResourcesDep
from console.render import page
from console.route import ConsoleRoute
from console.session import (
    ActingDep,
    ViewerDep,
    check_login_nonce,
    log_in,
    log_out,
    read_form,
    safe_next,
    set_login_nonce,
    set_session,
)

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)

_LANDING = {
    Role.PLATFORM_ADMIN: "/console/board",
    Role.COORDINATOR: "/console/board",
    Role.CARER: "/console/carer",
    Role.FAMILY: "/console/family",
}


def _login_page(
    request: Request, resources: ResourcesDep, *, next_path: str, status: int = 200, error: str = ""
) -> Response:
    cookie = Response()
    nonce = set_login_nonce(cookie, secure=resources.settings.console_cookie_secure)
    response = page(request, "login.html", status=status, next=next_path, error=error, csrf=nonce)
    response.headers.append("set-cookie", cookie.headers["set-cookie"])
    return response


@router.get("/login")
async def login_form(request: Request, resources: ResourcesDep, next: str = "/console/") -> Response:
    """The login form."""
    return _login_page(request, resources, next_path=safe_next(next))


@router.post("/login")
async def login(request: Request, resources: ResourcesDep) -> Response:
    """Check the password (rate-limited like the API's login) and start a console login."""
    form = await read_form(request)
    check_login_nonce(request, form.get("csrf"))
    next_path = safe_next(form.get("next"))
    email, password = form.get("email", "").strip(), form.get("password", "")
    if not email or not password or len(email) > 320 or len(password) > 1000:
        return _login_page(
            request, resources, next_path=next_path, status=422, error="Enter your email and password."
        )
    try:
        token = await log_in(resources, request, email=email, password=password)
    except RateLimited as exc:
        message = f"Too many failed attempts. Try again in {exc.retry_after} seconds."
        response = _login_page(request, resources, next_path=next_path, status=429, error=message)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except NotAuthenticated:
        return _login_page(
            request, resources, next_path=next_path, status=401, error="Wrong email or password."
        )
    response = RedirectResponse(next_path, status_code=303)
    set_session(response, token, resources)
    return response


@router.post("/logout")
async def logout(resources: ResourcesDep, viewer: ActingDep) -> Response:
    """End the login everywhere and go back to the login page."""
    response = RedirectResponse("/console/login", status_code=303)
    await log_out(resources, viewer, response)
    return response


@router.get("/")
async def landing(viewer: ViewerDep) -> Response:
    """Each role's first screen."""
    return RedirectResponse(_LANDING.get(viewer.role, "/console/homes"), status_code=303)
