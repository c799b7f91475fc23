"""Opaque cursors for keyset pagination, and the page-size limits every listing shares."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

import orjson
from fastapi import HTTPException, Query

MAX_PAGE = 200
EARLIEST, LATEST = datetime(1970, 1, 1, tzinfo=UTC), datetime(9000, 1, 1, tzinfo=UTC)
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description=f"page size (1–{MAX_PAGE})")]
Cursor = Annotated[
    str | None, Query(max_length=200, description="`next_cursor` of the previous page; omit for the first")
]


def encode(*parts: datetime | UUID | int) -> str:
    """A cursor for the keyset position given by parts."""
    values = [
        p.isoformat() if isinstance(p, datetime) else p if isinstance(p, int) else str(p) for p in parts
    ]
    return base64.urlsafe_b64encode(orjson.dumps(values)).decode().rstrip("=")


def _parts(cursor: str) -> list[object]:
    try:
        values = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, orjson.JSONDecodeError) as exc:
        raise HTTPException(422, "the cursor is not valid; pass next_cursor as it was given") from exc
    if not isinstance(values, list):
        raise HTTPException(422, "the cursor is not valid; pass next_cursor as it was given")
    return values


def time_and_id(cursor: str | None) -> tuple[datetime, UUID] | None:
    """Decode a (time, id) cursor; 422 if it was not made by encode."""
    if cursor is None:
        return None
    values = _parts(cursor)
    try:
        time, ident = values
        when = datetime.fromisoformat(str(time))
        if when.tzinfo is None or not EARLIEST <= when <= LATEST:
            raise ValueError("naive or out of range")
        return when, UUID(str(ident))
    except ValueError as exc:
        raise HTTPException(422, "the cursor is not valid; pass next_cursor as it was given") from exc


def serial(cursor: str | None) -> int | None:
    """Decode an (id) cursor of a bigserial keyset; 422 if it was not made by encode."""
    if cursor is None:
        return None
    values = _parts(cursor)
    if len(values) != 1 or not isinstance(values[0], int) or not 0 < values[0] < 2**63:
        raise HTTPException(422, "the cursor is not valid; pass next_cursor as it was given")
    return values[0]


def aware_time(value: datetime) -> datetime:
    """A query time as given, or 422 if it has no offset or is out of the range the API serves."""
    if value.tzinfo is None:
        raise HTTPException(422, "times must include a timezone offset, for example 2026-01-01T00:00:00Z")
    if not EARLIEST <= value <= LATEST:
        raise HTTPException(422, "times must be between 1970 and 9000")
    return value
