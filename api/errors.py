"""Every error as application/problem+json with a reason; domain errors mapped to HTTP in one place."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from accounts import errors as accounts
from alerts import errors as alerts
from devices import errors as devices
from homes import errors as homes
from notifications import errors as notifications
from rostering import errors as rostering
from visits import errors as visits

log = logging.getLogger(__name__)

PROBLEM = "application/problem+json"
# The one mapping of domain errors to HTTP; the first matching class wins, so subclasses come first.
_DOMAIN_STATUS: list[tuple[type[Exception], int]] = [
    (devices.NotFound, 404),
    (devices.InvalidState, 409),
    (devices.BrokerUnavailable, 503),
    (devices.DevicesError, 400),
    (accounts.NotAuthenticated, 401),
    (accounts.Forbidden, 403),
    (accounts.NotFound, 404),
    (accounts.Conflict, 409),
    (accounts.InvalidInput, 422),
    (accounts.RateLimited, 429),
    (accounts.AccountsError, 400),
    (alerts.AlertNotFound, 404),
    (alerts.AlertStateError, 409),
    (alerts.UnknownKind, 422),
    (alerts.AlertsError, 400),
    (homes.NotFound, 404),
    (homes.HomesError, 400),
    (visits.NotFound, 404),
    (visits.Forbidden, 403),
    (visits.InvalidInput, 422),
    (visits.InvalidState, 409),
    (visits.Conflict, 409),
    (visits.VisitsError, 400),
    (notifications.NotFound, 404),
    (notifications.LinkInvalid, 404),
    (notifications.InvalidInput, 422),
    (notifications.CodeInvalid, 422),
    (notifications.NotificationsError, 400),
    (rostering.RosterNotFound, 404),
    (rostering.InvalidRoster, 422),
    (rostering.RosterNotReady, 409),
    (rostering.RosteringError, 400),
]
_UNSTORABLE = (
    UnicodeEncodeError,
    asyncpg.CharacterNotInRepertoireError,
    asyncpg.UntranslatableCharacterError,
)
_DOMAIN_BASES = (
    devices.DevicesError,
    accounts.AccountsError,
    alerts.AlertsError,
    homes.HomesError,
    visits.VisitsError,
    notifications.NotificationsError,
    rostering.RosteringError,
)


def problem(status: int, detail: str, **extra: Any) -> JSONResponse:
    """An RFC 9457 problem response."""
    body = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers on the app."""

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {
                "loc": [str(p) for p in err.get("loc", ())],
                "msg": str(err.get("msg", "")),
                "type": str(err.get("type", "")),
            }
            for err in exc.errors()
        ]
        first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
        return problem(422, f"{'.'.join(first['loc'])}: {first['msg']}", errors=errors)

    @app.exception_handler(HTTPException)
    async def _http(_: Request, exc: HTTPException) -> JSONResponse:
        response = problem(exc.status_code, str(exc.detail))
        for key, value in (exc.headers or {}).items():
            response.headers[key] = value
        return response

    async def _domain(_: Request, exc: Exception) -> JSONResponse:
        status = next(code for kind, code in _DOMAIN_STATUS if isinstance(exc, kind))
        response = problem(status, str(exc))
        if isinstance(exc, accounts.NotAuthenticated):
            response.headers["WWW-Authenticate"] = "Bearer"
        if isinstance(exc, accounts.RateLimited):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    for base in _DOMAIN_BASES:
        app.add_exception_handler(base, _domain)

    async def _unstorable(_: Request, exc: Exception) -> JSONResponse:
        # JSON and URLs may carry NUL or lone surrogates (an escaped \udc80): no database text holds them.
        return problem(422, "text must be valid Unicode without NUL characters")

    for kind in _UNSTORABLE:
        app.add_exception_handler(kind, _unstorable)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        return problem(500, "internal error; it has been logged")


class Problem(BaseModel):
    """An error (RFC 9457): `detail` gives the reason."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str


_DESCRIPTIONS = {
    400: "the body could not be read: it is not UTF-8 JSON",
    401: "not logged in, or the token is expired, tampered with or revoked",
    403: "the caller's role does not allow this",
    404: "not found, or another tenant's",
    409: "the resource's state does not allow this",
    413: "the request body is larger than the API accepts (TELECARE_API_MAX_BODY_BYTES)",
    422: "the request is invalid; `detail` says why",
    429: "too many failed logins; see Retry-After",
    503: "a dependency (the broker) is unavailable",
}


def problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` documenting these error statuses as problem+json."""
    return {
        code: {
            "description": _DESCRIPTIONS[code],
            "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for code in codes
    }
