"""A cap on request bodies (TELECARE_API_MAX_BODY_BYTES): 413 problem+json, before a large body is read.

An ASGI middleware rather than FastAPI's own `max_body_size`, which lets the route run and swaps its
response for the 413 when the declared length is too large: a route that ignores its body (rotating a
device's password, say) would have acted, and its answer (the new password) been lost.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import problem


class BodyTooLarge(HTTPException):
    """The body grew past the cap while it was read (a chunked body says no length up front)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, _reason(limit))


def _reason(limit: int) -> str:
    return f"the request body is larger than {limit} bytes"


class BodyLimit:
    """Refuses a declared Content-Length over the cap at once, and counts a chunked body as it arrives.

    A body with a Content-Length within the cap is passed through untouched: the server reads no more
    than that length. Raised while the route reads the body, BodyTooLarge is an HTTPException, which
    the routes' error handler (api/errors.py) turns into the 413 problem.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request, or answer 413 without reading a body over the cap."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunked = False
        for name, value in scope["headers"]:
            if name == b"content-length":
                if value.isdigit() and int(value) > self.max_bytes:
                    await problem(413, _reason(self.max_bytes))(scope, receive, send)
                    return
                await self.app(scope, receive, send)
                return
            if name == b"transfer-encoding":
                chunked = True
        if not chunked:  # neither a length nor chunks: the body is empty
            await self.app(scope, receive, send)
            return
        await self.app(scope, self._counting(receive), send)

    def _counting(self, receive: Receive) -> Receive:
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        return counted
