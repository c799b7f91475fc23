"""Every error as application/problem+json with a reason; domain errors mapped to HTTP in one place."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from devices.errors import BrokerUnavailable, DevicesError, InvalidState, NotFound

log = logging.getLogger(__name__)

PROBLEM = "application/problem+json"
_DOMAIN_STATUS: list[tuple[type[Exception], int]] = [
    (NotFound, 404),
    (InvalidState, 409),
    (BrokerUnavailable, 503),
    (DevicesError, 400),
]


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

    @app.exception_handler(DevicesError)
    async def _domain(_: Request, exc: DevicesError) -> JSONResponse:
        status = next(code for kind, code in _DOMAIN_STATUS if isinstance(exc, kind))
        return problem(status, str(exc))

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        return problem(500, "internal error; it has been logged")
