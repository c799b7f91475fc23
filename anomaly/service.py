"""The detector's runtime: read committed readings and health events, feed the pure detector, tick its
clock, and write the alerts it raised together with its state and cursor, in one transaction.

A restart loads the last checkpoint and replays the logs from its cursor: a condition that arose while
the detector was down is found by the first tick, and nothing committed is acted on twice.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

import asyncpg

from alerts import service as alerts
from alerts.errors import AlertNotFound
from anomaly import queries, visits_window
from anomaly.config import DetectorConfig
from anomaly.daymodel import FEATURES, DayModel
from anomaly.detector import Detector
from anomaly.leader import Partition, partition_leadership
from anomaly.model import Action, Clear, Device, HealthChange, Raise, Reading, Window, ts
from anomaly.schemas import CarerWindowIn
from anomaly.state import dump_baseline, dump_live, load_state
from ingest.handoff import BatchCursor, read_committed
from kernel.connect import require_database_url
from kernel.db import create_pool
from kernel.migrate import migrate
from kernel.settings import Settings

log = logging.getLogger(__name__)


@dataclass(slots=True, frozen=True)
class RuntimeOptions:
    """How the runtime polls, ticks and checkpoints."""

    name: str = "detector"
    poll_s: float = 0.1
    tick_s: float = 5.0
    checkpoint_s: float = 5.0
    housekeeping_s: float = 30.0
    max_batches: int = 200
    health_limit: int = 2000
    # Readings stored longer ago than this are a replay (a restart catching up), judged at their time.
    catch_up_s: float = 30.0
    # Only these homes are judged (a replay's detector beside others' homes); None: every home.
    homes: frozenset[UUID] | None = None


class DetectorService:
    """One detector process's loop over the database."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        config: DetectorConfig,
        options: RuntimeOptions | None = None,
        *,
        clock: Callable[[], float] = time.time,
        on_commit: Callable[[list[Action]], None] | None = None,
        partition: Partition | None = None,
    ) -> None:
        self.pool = pool
        self.options = options or RuntimeOptions()
        # The homes this process watches (all of them unless the detector runs in partitions).
        self.partition = partition or Partition()
        self.cursor_name = self.partition.cursor_name(self.options.name)
        self.clock = clock
        # Told the actions of each committed write (a replay records them with their virtual times).
        self.on_commit = on_commit
        self.detector = Detector(config)
        self.cursor = BatchCursor()
        self.health_low = 0
        self.health_seen: set[int] = set()
        self.models_new: list[tuple[UUID, DayModel]] = []
        self._next_tick = 0.0
        self._next_checkpoint = 0.0
        self._next_housekeeping = 0.0
        self._registry_at = 0.0
        self.readings = 0
        self.alerts_written = 0
        self.missed: dict[UUID, list[visits_window.MissedVisit]] = {}

    async def start(self) -> None:
        """Load the registry, every home's checkpointed state, the day models and the cursor."""
        async with self.pool.acquire() as conn:
            saved = await queries.load_cursor(conn, name=self.cursor_name)
            if saved is not None:
                self.cursor = BatchCursor(saved["batch_low"], set(saved["batch_seen"]))
                self.health_low, self.health_seen = saved["health_low"], set(saved["health_seen"])
            else:
                # A new detector starts at the present, not at the beginning of the logs.
                horizon = await queries.horizon(conn)
                self.cursor = BatchCursor(horizon)
                self.health_low = horizon
            for row in await queries.latest_models(conn):
                if self.partition.owns(row["home_id"]):
                    self.detector.models[row["home_id"]] = DayModel.from_bytes(row["model"])
        await self._load_registry(force=True)

    async def run(self) -> None:
        """Start, then run until cancelled."""
        await self.start()
        await self.loop()

    async def loop(self) -> None:
        """Poll, feed, tick and write until cancelled (after start())."""
        log.info("detector %s running: %d homes", self.options.name, len(self.detector.homes))
        while True:
            busy = await self.step()
            if not busy:
                await asyncio.sleep(self.options.poll_s)

    async def step(self) -> int:
        """One cycle: read, feed, tick when due, write when there is something to write; returns readings."""
        try:
            return await self._step()
        except (asyncpg.PostgresError, OSError):
            # The in-memory state may be ahead of what was committed: reload it from the checkpoint.
            log.exception("detector cycle failed; reloading from the checkpoint")
            self.detector = Detector(self.detector.cfg)
            await self.start()
            return 0

    async def _step(self) -> int:
        async with self.pool.acquire() as conn:
            rows = await read_committed(conn, self.cursor, max_batches=self.options.max_batches)
            events, horizon, complete = await queries.read_health_events(
                conn, low=self.health_low, seen=self.health_seen, limit=self.options.health_limit
            )
        now = self._catching_up_to(rows) or self.clock()
        self._advance_health(events, horizon, complete)
        read = len(rows) + len(events)  # what was read, this partition's or not: more may be waiting
        if self.partition.count > 1:
            owns = self.partition.owns
            rows = [r for r in rows if owns(r["home_id"])]
            events = [e for e in events if owns(e["home_id"])]
        if any(r["device_id"] not in self.detector.devices for r in rows):
            await self._load_registry()
        actions: list[Action] = []
        for row in rows:
            actions += self.detector.feed(_reading(row), now)
        for ev in events:
            change = HealthChange(
                ev["device_id"], ev["home_id"], ev["kind"], ev["at"].timestamp(), ev["detail"]
            )
            actions += self.detector.health(change, now)
        if now >= self._next_housekeeping:
            await self._housekeeping(now)
        if now >= self._next_tick:
            self._next_tick = now + self.options.tick_s
            actions += self.detector.tick(now)
            if self.detector.training_due:
                self.models_new += await asyncio.to_thread(self.detector.train_due, 1)
        self.readings += len(rows)
        actions = visits_window.escalate(actions, self.missed, self.detector)
        if actions or self.models_new or (now >= self._next_checkpoint and self.detector.dirty):
            await self._write(actions)
            self._next_checkpoint = now + self.options.checkpoint_s
        return read

    def _catching_up_to(self, rows: list[asyncpg.Record]) -> float | None:
        """When replaying readings stored well before now (after a restart), the time they were stored.

        Judging silence by the wall clock in the middle of a replay would find every home quiet since
        the last reading replayed so far.
        """
        if not rows:
            return None
        stored = max(r["stored_at"] for r in rows).timestamp()
        return stored if self.clock() - stored > self.options.catch_up_s else None

    def _advance_health(self, events: list[asyncpg.Record], horizon: int, complete: bool) -> None:
        self.health_seen |= {e["xid"] for e in events}
        if complete:
            self.health_low = max(self.health_low, horizon)
        self.health_seen = {x for x in self.health_seen if x >= self.health_low}

    async def _write(self, actions: list[Action]) -> None:
        """Alerts, the changed homes' states, new models and the cursor: all or nothing."""
        det = self.detector
        rows = []
        for home_id in det.dirty:
            st = det.homes[home_id]
            learned = len(st.baseline.learned(det.cfg.history_days))
            baseline = dump_baseline(st.baseline) if home_id in det.baseline_dirty else None
            rows.append((home_id, st.mode(det.cfg.min_history_days), learned, dump_live(st), baseline))
        async with self.pool.acquire() as conn, conn.transaction():
            for action in actions:
                await _apply(conn, action)
            await queries.save_homes(conn, rows=rows)
            for home_id, model in self.models_new:
                await queries.save_model(
                    conn,
                    home_id=home_id,
                    version=model.version,
                    n_days=model.n_days,
                    features=list(FEATURES),
                    threshold=model.threshold,
                    model=model.to_bytes(),
                )
            await queries.save_cursor(
                conn,
                name=self.cursor_name,
                batch_low=self.cursor.low,
                batch_seen=sorted(self.cursor.seen),
                health_low=self.health_low,
                health_seen=sorted(self.health_seen),
            )
        det.dirty.clear()
        det.baseline_dirty.clear()
        self.models_new = []
        self.alerts_written += sum(1 for a in actions if isinstance(a, Raise))
        if self.on_commit is not None:
            self.on_commit(actions)

    async def _load_registry(self, *, force: bool = False) -> None:
        """Homes (with their saved state) and devices; throttled, since unknown devices trigger it."""
        if not force and self.clock() - self._registry_at < 1.0:
            return
        self._registry_at = self.clock()
        async with self.pool.acquire() as conn:
            homes = await queries.load_homes(conn)
            devices = await queries.load_devices(conn)
        owns = self.partition.owns
        only = self.options.homes
        for row in homes:
            if only is not None and row["id"] not in only:
                continue
            if row["id"] not in self.detector.homes and owns(row["id"]):
                state = load_state(row["id"], row["live"], row["baseline"]) if row["live"] else None
                self.detector.add_home(row["id"], row["timezone"], state)
        for row in devices:
            if not owns(row["home_id"]) or (only is not None and row["home_id"] not in only):
                continue
            self.detector.add_device(
                Device(row["id"], row["home_id"], row["type"], row["room"], row["role"], row["event_only"])
            )

    async def _housekeeping(self, now: float) -> None:
        """Carer windows from the API, and what people said about the alerts (false alarms, handled)."""
        self._next_housekeeping = now + self.options.housekeeping_s
        since = ts(now) - timedelta(days=2)
        async with self.pool.acquire() as conn:
            windows = await queries.carer_windows(conn, since=since)
            resolved = await queries.resolved_by_people(conn, since=since)
            # Checked-in visits are carer windows too; missed ones make a quiet home's alert graver.
            visit_windows, self.missed = await visits_window.housekeeping(conn, self.detector, now)
        by_home: dict[UUID, list[Window]] = {home: [] for home in self.detector.homes}
        for home_id, window in visit_windows:
            by_home.setdefault(home_id, []).append(window)
        for w in windows:
            by_home.setdefault(w["home_id"], []).append(
                Window(w["starts_at"].timestamp(), w["ends_at"].timestamp(), w["source"])
            )
        for home_id, items in by_home.items():
            self.detector.set_windows(home_id, items)
        for row in resolved:
            self.detector.forget(row["home_id"], row["dedupe_key"])
            if row["resolution"] == "false_alarm":
                self.detector.false_alarm(row["home_id"], row["kind"], str(row["id"]))
            elif row["kind"] == "night_wandering":
                at = row["triggered_at"].timestamp()
                self.detector.confirmed(row["home_id"], row["kind"], at, str(row["id"]))


async def _apply(conn: asyncpg.Connection, action: Action) -> None:
    try:
        if isinstance(action, Raise):
            await alerts.raise_or_update(conn, action.signal)
        elif isinstance(action, Clear):
            await alerts.clear(
                conn,
                home_id=action.home_id,
                dedupe_key=action.key,
                at=ts(action.at),
                note=action.note,
                resolution=action.resolution,
            )
    except AlertNotFound:
        log.warning("home of %s no longer exists", action)


def _reading(row: asyncpg.Record) -> Reading:
    payload = row["payload"]
    return Reading(
        row["device_id"],
        row["home_id"],
        row["kind"],
        row["time"].timestamp(),
        row["received_at"].timestamp(),
        row["seq"],
        row["value"],
        payload,
        row["clock_suspect"],
    )


async def add_carer_window(conn: asyncpg.Connection, window: CarerWindowIn) -> UUID:
    """Record that a carer is with the resident (the visits API calls this); the detector picks it up."""
    return await queries.insert_carer_window(
        conn,
        home_id=window.home_id,
        starts_at=window.starts_at,
        ends_at=window.ends_at,
        source=window.source,
        note=window.note,
    )


def config_from(settings: Settings) -> tuple[DetectorConfig, RuntimeOptions]:
    """The detector's configuration from the one Settings object."""
    config = DetectorConfig(
        min_history_days=settings.detector_min_history_days,
        default_inactivity_s=settings.detector_default_inactivity_s,
        offline_grace_s=settings.detector_offline_grace_s,
    )
    options = RuntimeOptions(
        poll_s=settings.detector_poll_ms / 1000,
        tick_s=settings.detector_tick_s,
        checkpoint_s=settings.detector_checkpoint_s,
    )
    return config, options


async def serve(settings: Settings, *, ready: asyncio.Event | None = None) -> None:
    """Migrate, then run the detector against the configured database until cancelled."""
    dsn = require_database_url(settings)
    pool = await create_pool(dsn, min_size=1, max_size=3)
    try:
        async with pool.acquire() as conn:
            await migrate(conn, storage=settings.storage)
        config, options = config_from(settings)
        async with partition_leadership(dsn, options.name, settings.detector_partitions) as partition:
            service = DetectorService(pool, config, options, partition=partition)
            await service.start()
            if ready is not None:
                ready.set()
            await service.loop()
    finally:
        await pool.close()
