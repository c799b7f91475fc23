"""A home's readings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, HTTPException, Query

from api.deps import PoolDep
from api.security import AdminDep
from devices import queries as device_queries
from ingest import queries
from ingest.schemas import ReadingOut, ReadingPage

router = APIRouter(prefix="/v1", tags=["readings"], dependencies=[AdminDep])

MAX_RANGE = timedelta(days=31)


@router.get("/homes/{home_id}/readings", response_model=ReadingPage)
async def list_readings(
    home_id: UUID,
    pool: PoolDep,
    start: Annotated[datetime | None, Query(description="from this event time (default: 24 h ago)")] = None,
    end: Annotated[datetime | None, Query(description="until this event time (default: now)")] = None,
    kind: Annotated[str | None, Query(max_length=32, pattern=r"^[a-z_]+$")] = None,
    device_id: UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> ReadingPage:
    """Raw readings of one home in a time range (at most 31 days), newest first."""
    end = _aware(end) if end else datetime.now(UTC)
    start = _aware(start) if start else end - timedelta(hours=24)
    if start >= end:
        raise HTTPException(422, "start must be before end")
    if end - start > MAX_RANGE:
        raise HTTPException(422, "the time range may be at most 31 days")
    async with pool.acquire() as conn:
        if await device_queries.get_home(conn, home_id=home_id) is None:
            raise HTTPException(404, f"home {home_id} not found")
        rows = await queries.select_readings(
            conn, home_id=home_id, start=start, end=end, kind=kind, device_id=device_id, limit=limit
        )
    return ReadingPage(
        home_id=home_id, start=start, end=end, items=[ReadingOut.model_validate(dict(r)) for r in rows]
    )


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise HTTPException(422, "times must include a timezone offset, for example 2026-01-01T00:00:00Z")
    return value
