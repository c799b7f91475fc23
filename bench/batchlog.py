"""Writing the batch log as ingest's writer does, for the detector's benchmark and tests without ingest."""

from __future__ import annotations

import asyncpg


async def record_batch(conn: asyncpg.Connection, *, keys: list[tuple[object, int, object]]) -> None:
    """Log the keys (device_id, seq, time) of readings committed in this transaction."""
    if keys:
        devices, seqs, times = zip(*keys, strict=True)
        await conn.execute(
            "INSERT INTO ingest_batches (device_ids, seqs, times) VALUES ($1, $2, $3)",
            list(devices),
            list(seqs),
            list(times),
        )
