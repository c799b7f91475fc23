"""The committed-batch log: consumers in any process get every committed reading once, in safe order."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg

from bench.batchlog import record_batch
from ingest import handoff

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


async def _batch(conn: asyncpg.Connection, home: uuid.UUID, device: uuid.UUID, seqs: range) -> None:
    rows = [(T0 + timedelta(seconds=s), T0, home, device, s, "motion", 1.0, "{}", False) for s in seqs]
    await conn.executemany(
        "INSERT INTO readings (time, received_at, home_id, device_id, seq, kind, value, payload,"
        " clock_suspect) VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9)",
        rows,
    )
    await record_batch(conn, keys=[(device, s, T0 + timedelta(seconds=s)) for s in seqs])


async def test_a_late_commit_is_not_skipped_and_nothing_comes_twice(db_url: str) -> None:
    home, device = uuid.uuid4(), uuid.uuid4()
    reader = await asyncpg.connect(db_url)
    slow = await asyncpg.connect(db_url)
    fast = await asyncpg.connect(db_url)
    cursor = handoff.BatchCursor()
    try:
        slow_tx = slow.transaction()
        await slow_tx.start()
        await _batch(slow, home, device, range(0, 3))  # takes an older transaction id, commits last
        async with fast.transaction():
            await _batch(fast, home, device, range(3, 6))
        first = await handoff.read_committed(reader, cursor)
        assert sorted(r["seq"] for r in first) == [3, 4, 5]
        await slow_tx.commit()
        second = await handoff.read_committed(reader, cursor)
        assert sorted(r["seq"] for r in second) == [0, 1, 2]
        assert await handoff.read_committed(reader, cursor) == []
        async with fast.transaction():
            await _batch(fast, home, device, range(6, 8))
        third = await handoff.read_committed(reader, cursor)
        assert sorted(r["seq"] for r in third) == [6, 7]
        assert await handoff.read_committed(reader, cursor) == []
    finally:
        for conn in (reader, slow, fast):
            await conn.close()


async def test_many_batches_are_read_in_pages(db_url: str) -> None:
    conn = await asyncpg.connect(db_url)
    try:
        device = uuid.uuid4()
        for n in range(7):
            async with conn.transaction():
                await _batch(conn, uuid.uuid4(), device, range(n * 10, n * 10 + 10))
        cursor = handoff.BatchCursor()
        seen: list[int] = []
        while page := await handoff.read_committed(conn, cursor, max_batches=3):
            seen += [r["seq"] for r in page]
        assert sorted(seen) == list(range(70))
    finally:
        await conn.close()


async def test_old_batches_are_pruned(db_url: str) -> None:
    conn = await asyncpg.connect(db_url)
    try:
        device = uuid.uuid4()
        async with conn.transaction():
            await _batch(conn, uuid.uuid4(), device, range(0, 2))
        async with conn.transaction():
            await _batch(conn, uuid.uuid4(), device, range(2, 4))
        await conn.execute(
            "UPDATE ingest_batches SET committed_at = now() - interval '3 days' WHERE 0 = ANY(seqs)"
        )
        assert await handoff.prune(conn, keep_hours=48) == 1
        assert await conn.fetchval("SELECT count(*) FROM ingest_batches") == 1
    finally:
        await conn.close()
