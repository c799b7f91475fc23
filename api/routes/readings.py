"""A home's readings: raw in a time range, or aggregated per hour or day from `readings_hourly`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, ConfigDict

from api.deps import CallerDep, PoolDep
from api.errors import problems
from api.pagination import aware_time
from homes.service import visible_home
from ingest import queries
from ingest.schemas import ReadingOut, ReadingPage
from kernel.strict import TimeText

router = APIRouter(prefix="/v1", tags=["readings"], responses=problems(401, 404, 422))

MAX_RANGE = timedelta(days=31)
MAX_BUCKET_RANGE = {"hour": timedelta(days=31), "day": timedelta(days=366)}
MAX_BUCKETS = 5000

Start = Annotated[TimeText | None, Query(description="from this event time (default: 24 h before end)")]
End = Annotated[TimeText | None, Query(description="until this event time (default: now)")]
Kind = Annotated[str | None, Query(max_length=32, pattern=r"^[a-z_]+$")]

_BUCKET: dict[str, Any] = {
    "bucket": "2026-11-02T07:00:00Z",
    "device_id": None,
    "room": "kitchen",
    "kind": "motion",
    "n": 14,
    "active": 9,
    "value_avg": 0.64,
    "value_min": 0.0,
    "value_max": 1.0,
}


class BucketOut(BaseModel):
    """Readings of one device (or room) and kind in one hour or day."""

    model_config = ConfigDict(json_schema_extra={"examples": [_BUCKET]})

    bucket: datetime
    device_id: UUID | None = None
    room: str | None = None
    kind: str
    n: int
    active: int = 0
    value_avg: float | None
    value_min: float | None
    value_max: float | None


class BucketPage(BaseModel):
    """Aggregated readings, oldest bucket first; `truncated` when the limit cut the list short."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "home_id": "a1b2c3d4-e5f6-4711-8899-aabbccddeeff",
                    "start": "2026-11-02T07:00:00Z",
                    "end": "2026-11-02T09:00:00Z",
                    "bucket": "hour",
                    "group": "room",
                    "items": [_BUCKET, {**_BUCKET, "bucket": "2026-11-02T08:00:00Z", "n": 6, "active": 2}],
                    "truncated": False,
                }
            ]
        }
    )

    home_id: UUID
    start: datetime
    end: datetime
    bucket: Literal["hour", "day"]
    group: Literal["device", "room"]
    items: list[BucketOut]
    truncated: bool


def _range(start: datetime | None, end: datetime | None, longest: timedelta) -> tuple[datetime, datetime]:
    end = aware_time(end) if end else datetime.now(UTC)
    start = aware_time(start) if start else end - timedelta(hours=24)
    if start >= end:
        raise HTTPException(422, "start must be before end")
    if end - start > longest:
        raise HTTPException(422, f"the time range may be at most {longest.days} days")
    return start, end


@router.get("/homes/{home_id}/readings", response_model=ReadingPage)
async def list_readings(
    home_id: UUID,
    pool: PoolDep,
    caller: CallerDep,
    start: Start = None,
    end: End = None,
    kind: Kind = None,
    device_id: UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> ReadingPage:
    """Raw readings of one home in a time range (at most 31 days), newest first."""
    start, end = _range(start, end, MAX_RANGE)
    async with pool.acquire() as conn:
        await visible_home(conn, caller, home_id)
        rows = await queries.select_readings(
            conn, home_id=home_id, start=start, end=end, kind=kind, device_id=device_id, limit=limit
        )
    return ReadingPage(
        home_id=home_id, start=start, end=end, items=[ReadingOut.model_validate(dict(r)) for r in rows]
    )


@router.get("/homes/{home_id}/readings/aggregates", response_model=BucketPage)
async def reading_aggregates(
    home_id: UUID,
    pool: PoolDep,
    caller: CallerDep,
    start: Start = None,
    end: End = None,
    bucket: Literal["hour", "day"] = "hour",
    group: Annotated[
        Literal["device", "room"], Query(description="one row per device, or per room")
    ] = "device",
    kind: Kind = None,
    device_id: UUID | None = None,
    room: Annotated[str | None, Query(max_length=100)] = None,
) -> BucketPage:
    """Counts and value statistics per hour or day (UTC), per device or room (hours: 31 days, days: 366)."""
    start, end = _range(start, end, MAX_BUCKET_RANGE[bucket])
    async with pool.acquire() as conn:
        await visible_home(conn, caller, home_id)
        rows = await queries.select_buckets(
            conn,
            home_id=home_id,
            start=start,
            end=end,
            bucket=bucket,
            group=group,
            kind=kind,
            device_id=device_id,
            room=room,
            limit=MAX_BUCKETS + 1,
        )
    return BucketPage(
        home_id=home_id,
        start=start,
        end=end,
        bucket=bucket,
        group=group,
        items=[BucketOut.model_validate(dict(r)) for r in rows[:MAX_BUCKETS]],
        truncated=len(rows) > MAX_BUCKETS,
    )
