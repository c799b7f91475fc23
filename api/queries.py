"""SQL the API reads that belongs to no one domain: readings aggregated from `readings_hourly`.

`readings_hourly` is a continuous aggregate on TimescaleDB and a rollup table on plain PostgreSQL,
with the same columns, so one query serves both.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

import asyncpg


async def select_buckets(
    conn: asyncpg.Connection,
    *,
    home_id: UUID,
    start: datetime,
    end: datetime,
    bucket: Literal["hour", "day"],
    group: Literal["device", "room"],
    kind: str | None,
    device_id: UUID | None,
    room: str | None,
    limit: int,
) -> list[asyncpg.Record]:
    """A home's readings per bucket (UTC), per device or room and kind, oldest first."""
    key = (
        "r.device_id AS device_id, NULL::text AS room"
        if group == "device"
        else "NULL::uuid AS device_id, d.room"
    )
    grouping = "r.device_id" if group == "device" else "d.room"
    rows: list[asyncpg.Record] = await conn.fetch(
        f"""
        SELECT date_trunc($4, r.bucket) AS bucket, {key}, r.kind,
               sum(r.n)::bigint AS n, sum(r.active)::bigint AS active,
               sum(r.value_avg * r.n) FILTER (WHERE r.value_avg IS NOT NULL)
                 / nullif(sum(r.n) FILTER (WHERE r.value_avg IS NOT NULL), 0) AS value_avg,
               min(r.value_min) AS value_min, max(r.value_max) AS value_max
        FROM readings_hourly r JOIN devices d ON d.id = r.device_id
        WHERE r.home_id = $1 AND r.bucket >= $2 AND r.bucket < $3
          AND ($5::text IS NULL OR r.kind = $5) AND ($6::uuid IS NULL OR r.device_id = $6)
          AND ($7::text IS NULL OR d.room = $7)
        GROUP BY 1, {grouping}, r.kind ORDER BY 1, {grouping}, r.kind LIMIT $8
        """,
        home_id,
        start,
        end,
        bucket,
        kind,
        device_id,
        room,
        limit,
    )
    return rows
