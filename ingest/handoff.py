"""Handing committed readings on to other processes (the detector), from the database.

Each ingest commit also writes one `ingest_batches` row. A reader returns batches in commit-safe
order using transaction ids: it remembers the oldest transaction still running at its last read
(`low`) and the batches at or above it that it has already handed on, so a transaction that
commits late is never skipped and nothing is handed on twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import asyncpg


@dataclass
class BatchCursor:
    """Where a consumer is in the batch log; persist it to resume after a restart."""

    low: int = 0
    seen: set[int] = field(default_factory=set)


async def read_committed(
    conn: asyncpg.Connection,
    cursor: BatchCursor,
    *,
    max_batches: int = 200,
    kinds: Sequence[str] | None = None,
) -> list[asyncpg.Record]:
    """Readings of batches committed since the cursor, oldest first (only these kinds, if given);
    advances the cursor past every batch read, whatever its readings' kinds."""
    limit = max_batches + len(cursor.seen)
    # One snapshot for the batch list and the running-transactions horizon, or a batch committing
    # between the two reads could fall below the new horizon unseen.
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        batches = await conn.fetch(
            """
            SELECT xid::text::bigint AS xid, device_ids, seqs, times FROM ingest_batches
            WHERE xid >= $1::text::xid8 ORDER BY xid LIMIT $2
            """,
            str(cursor.low),
            limit,
        )
        horizon = int(await conn.fetchval("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint"))
        unseen = [b for b in batches if b["xid"] not in cursor.seen]
        fresh = unseen[:max_batches]
        rows: list[asyncpg.Record] = (
            await conn.fetch(
                """
            SELECT r.* FROM unnest($1::uuid[], $2::bigint[], $3::timestamptz[]) AS k(device_id, seq, time)
            JOIN readings r ON r.device_id = k.device_id AND r.seq = k.seq AND r.time = k.time
            WHERE $4::text[] IS NULL OR r.kind = ANY($4::text[])
            ORDER BY r.stored_at, r.time
            """,
                [d for b in fresh for d in b["device_ids"]],
                [q for b in fresh for q in b["seqs"]],
                [t for b in fresh for t in b["times"]],
                list(kinds) if kinds is not None else None,
            )
            if fresh
            else []
        )
    complete = len(batches) < limit and len(fresh) == len(unseen)
    if complete:
        cursor.low = max(cursor.low, horizon)
    cursor.seen = {x for x in cursor.seen | {b["xid"] for b in fresh} if x >= cursor.low}
    return rows


async def prune(conn: asyncpg.Connection, *, keep_hours: int = 48) -> int:
    """Forget batches older than keep_hours (consumers are expected to be well within that)."""
    status = await conn.execute(
        "DELETE FROM ingest_batches WHERE committed_at < now() - make_interval(hours => $1)", keep_hours
    )
    return int(status.split()[-1])
