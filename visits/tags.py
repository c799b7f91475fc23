"""The door reader's tags as check-ins and check-outs: a periodic job reading what ingest stored.

The job follows the ingest batch log (ingest.handoff) with a cursor kept in `visit_cursors`, written in
the same transaction as the events it led to: a crash before the commit reads the same batches again, and
a reading already recorded (visit_events is unique on the reading) is skipped, so no tap is lost or
counted twice. One process at a time consumes tags (an advisory lock), so taps of one carer are judged
in order.

A tap by a carer checked in at this home checks them out (a second tap within a minute or two is the
same tap again, kept and flagged); otherwise it checks them in to their visit due here. A tag of nobody,
or a carer with no visit here that day, is recorded and flagged as at the wrong home.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg

from ingest.handoff import BatchCursor, read_committed
from visits import event_queries, tag_queries
from visits.checkins import Check, CheckConfig, Who, apply_check, tag_window, timing_flags
from visits.rules import Clock, system_clock

log = logging.getLogger(__name__)

CURSOR = "tags"
_LOCK = "visits.tags"
# A second tap this soon after checking in is the same tap (a reader reads a tag held to it repeatedly).
SAME_TAP = timedelta(minutes=2)
# A visit still checked in this long after its planned end (the no-check-out rule's default) is taken to
# have been left without a check-out when its carer's tap could start their next visit here.
FORGOTTEN_AFTER = timedelta(hours=1)


async def consume(pool: asyncpg.Pool, *, config: CheckConfig, now: datetime, max_batches: int = 200) -> int:
    """Turn tag readings committed since the cursor into events; how many readings were read."""
    async with pool.acquire() as conn:
        if not await conn.fetchval("SELECT pg_try_advisory_lock(hashtext($1))", _LOCK):
            return 0
        try:
            low, seen = await tag_queries.load_cursor(conn, name=CURSOR)
            cursor = BatchCursor(low, set(seen))
            readings = await read_committed(conn, cursor, max_batches=max_batches, kinds=["tag"])
            async with conn.transaction():
                for reading in readings:
                    await _one(conn, reading, config=config, now=now)
                await tag_queries.save_cursor(conn, name=CURSOR, low=cursor.low, seen=sorted(cursor.seen))
            return len(readings)
        finally:
            await conn.execute("SELECT pg_advisory_unlock(hashtext($1))", _LOCK)


async def _one(
    conn: asyncpg.Connection, reading: asyncpg.Record, *, config: CheckConfig, now: datetime
) -> None:
    try:
        async with conn.transaction():  # a savepoint: one bad reading does not hold up the others
            await tap(conn, reading, config=config, now=now)
    except (asyncpg.PostgresError, KeyError, TypeError, ValueError) as exc:
        log.error("tag reading %s/%s could not be recorded: %s", reading["device_id"], reading["seq"], exc)


async def tap(
    conn: asyncpg.Connection, reading: asyncpg.Record, *, config: CheckConfig, now: datetime
) -> None:
    """Record one tag reading as a check-in or check-out (or a flagged tap of nobody, or at a wrong home)."""
    home = await event_queries.home_of(conn, home_id=reading["home_id"])
    if home is None:
        return
    tag_id = str(reading["payload"]["tag_id"])
    owner = await tag_queries.tag_owner(conn, tag_id=tag_id, organisation_id=home["organisation_id"])
    check = Check(
        kind="check_in",
        method="tag",
        carer_id=owner["id"] if owner else None,
        event_time=reading["time"],
        arrival_time=reading["received_at"],
        actor=Who("device", reading["device_id"], "door reader"),
        carer_name=owner["name"] if owner else "",
        tag_id=tag_id,
        device_id=reading["device_id"],
        reading_seq=reading["seq"],
    )
    flags = timing_flags(check, config)
    if owner is None:
        flags += ["unknown_tag", "no_visit"]
        await apply_check(conn, home=home, visit=None, check=check, flags=flags, accepted=False, now=now)
    else:
        await _carers_tap(conn, home, check, flags, config=config, now=now)


async def _carers_tap(
    conn: asyncpg.Connection,
    home: asyncpg.Record,
    check: Check,
    flags: list[str],
    *,
    config: CheckConfig,
    now: datetime,
) -> None:
    assert check.carer_id is not None
    at = check.event_time
    open_visit = await event_queries.open_visit_of(conn, carer_id=check.carer_id, home_id=home["id"])
    if open_visit is not None and await _starts_next(conn, open_visit, check.carer_id, at, config):
        open_visit = None  # its check-out was forgotten: this tap starts the visit now due
    if open_visit is not None:
        same = at - open_visit["carer_checked_in_at"] < SAME_TAP
        out = replace(check, kind="check_in" if same else "check_out")
        again = [*flags, "superseded"] if same else flags
        await apply_check(
            conn, home=home, visit=open_visit, check=out, flags=again, accepted=not same, now=now
        )
        return
    due = await event_queries.due_visit_of(
        conn, carer_id=check.carer_id, home_id=home["id"], at=at, early=tag_window(config)
    )
    if due is not None:
        await apply_check(conn, home=home, visit=due, check=check, flags=flags, accepted=True, now=now)
        return
    local_date = at.astimezone(ZoneInfo(home["timezone"])).date()
    ours = await event_queries.has_visit_on(
        conn, carer_id=check.carer_id, home_id=home["id"], local_date=local_date
    )
    flags = [*flags, "no_visit"] if ours else [*flags, "no_visit", "wrong_home"]
    await apply_check(conn, home=home, visit=None, check=check, flags=flags, accepted=False, now=now)


async def _starts_next(
    conn: asyncpg.Connection, open_visit: asyncpg.Record, carer: UUID, at: datetime, config: CheckConfig
) -> bool:
    """Whether a tap by a carer still checked in to a visit long over is the check-in of their next visit.

    Without this, one forgotten check-out would turn every later tap around: each arrival checking out
    the visit before, each departure checking in (h14b's evaluation found the cascade).
    """
    if at < open_visit["planned_end"] + FORGOTTEN_AFTER:
        return False
    due = await event_queries.due_visit_of(
        conn, carer_id=carer, home_id=open_visit["home_id"], at=at, early=tag_window(config)
    )
    return due is not None and due["id"] != open_visit["id"]


class TagJob:
    """The periodic job: consume new tag readings at the clock's now."""

    def __init__(self, pool: asyncpg.Pool, config: CheckConfig, clock: Clock = system_clock) -> None:
        self.pool = pool
        self.config = config
        self.clock = clock

    async def run_once(self) -> None:
        """Read and record what is new."""
        while await consume(self.pool, config=self.config, now=self.clock()) > 0:
            pass  # a backlog is read to its end at once
