"""The console's route class: domain errors become plain HTML pages (never problem+json), a missing
login a redirect to the login page, and every page gets the console's security headers."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute

from accounts import errors as accounts
from alerts import errors as alerts
from console.errors import CsrfRefused, InvalidForm, LoginRequired
from console.render import page
from console.session import login_url
from devices import errors as devices
from homes import errors as homes
from notifications import errors as notifications
from visits import errors as visits

log = logging.getLogger(__name__)

# Scripts only from the console's own files; inline styles for the charts' computed geometry.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
_NOT_FOUND = (
    homes.NotFound,
    alerts.AlertNotFound,
    accounts.NotFound,
    devices.NotFound,
    visits.NotFound,
    notifications.NotFound,
)
# What a person can put right (the page says what): 422; a state that does not allow it: 409.
_NOT_DONE = (
    accounts.RateLimited,
    accounts.InvalidInput,
    accounts.Conflict,
    visits.InvalidInput,
    notifications.InvalidInput,
    notifications.CodeInvalid,
    InvalidForm,
)


def not_found(request: Request) -> Response:
    """The plain 404 page: another tenant's home looks exactly like one that does not exist."""
    return page(request, "error.html", status=404, title="Not found", message="There is no such page.")


async def handle(request: Request, exc: Exception) -> Response:
    """The page for an error raised by a console route."""
    if isinstance(exc, LoginRequired):
        target = login_url(exc.next_path)
        if request.headers.get("hx-request"):
            return Response(status_code=401, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)
    if isinstance(exc, (*_NOT_FOUND, RequestValidationError)):
        return not_found(request)
    if isinstance(exc, CsrfRefused):
        return page(request, "error.html", status=403, title="Refused", message=str(exc))
    if isinstance(exc, accounts.Forbidden | visits.Forbidden):
        return page(request, "error.html", status=403, title="Not allowed", message=str(exc))
    if isinstance(exc, alerts.AlertStateError | visits.InvalidState | visits.Conflict):
        return page(request, "error.html", status=409, title="Already done", message=str(exc))
    if isinstance(exc, (*_NOT_DONE, visits.VisitsError, notifications.NotificationsError)):
        return page(request, "error.html", status=422, title="Not done", message=str(exc))
    raise exc


class ConsoleRoute(APIRoute):
    """An APIRoute whose errors are pages and whose responses carry the security headers."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """The route's handler, wrapped."""
        inner = super().get_route_handler()

        async def handler(request: Request) -> Response:
            started = time.perf_counter()
            try:
                response = await inner(request)
            except (
                LoginRequired,
                CsrfRefused,
                RequestValidationError,
                accounts.AccountsError,
                alerts.AlertsError,
                homes.HomesError,
                devices.DevicesError,
                visits.VisitsError,
                notifications.NotificationsError,
                InvalidForm,
            ) as exc:
                response = await handle(request, exc)
            for key, value in SECURITY_HEADERS.items():
                response.headers.setdefault(key, value)
            # The page's time in this process (queries and rendering): what bench/console measures.
            elapsed_ms = (time.perf_counter() - started) * 1000
            response.headers["Server-Timing"] = f"app;dur={elapsed_ms:.1f}"
            return response

        return handler
