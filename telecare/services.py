"""The long-running parts, each an awaitable that runs until cancelled: API, ingest, simulator."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

import asyncpg
import prometheus_client
import uvicorn
from fastapi import FastAPI

from api.main import create_app, end_streams
from console.mount import install_console
from devices import health
from devices.dynsec import DynsecAdmin, connect_admin
from ingest import upkeep
from ingest.priority import PriorityLane
from ingest.service import SESSION_EXPIRY_S, IngestWorker
from kernel import heap
from kernel.connect import mqtt_config, require_database_url
from kernel.db import create_pool
from kernel.logs import configure_logging
from kernel.migrate import migrate
from kernel.periodic import every
from kernel.settings import PriorityLane as LaneMode
from kernel.settings import Settings, load_settings
from kernel.storage import StorageInfo, apply_retention
from simulators.service import SimOptions, Summary, simulate
from telecare.demo import seed_demo_accounts, seed_demo_carer
from visits import materialise, verify_job
from visits.checkins import CheckConfig
from visits.rules import RulesJob, system_clock
from visits.tags import TagJob

log = logging.getLogger(__name__)


class _Server(uvicorn.Server):
    """uvicorn, minus its own signal handling: the caller owns Ctrl-C and stops every part together."""

    @contextlib.contextmanager
    def capture_signals(self):  # type: ignore[no-untyped-def]
        yield


def build_app(settings: Settings, *, migrations: bool = True, settle_heap: bool = False) -> FastAPI:
    """The API's application with the web console mounted under /console (api/ knows nothing of it)."""
    app = create_app(settings, run_migrations=migrations, settle_heap=settle_heap)
    install_console(app)
    return app


def app_from_environment() -> FastAPI:
    """The app for `uvicorn --factory` (several worker processes), console included."""
    settings = load_settings()
    configure_logging(settings)
    return build_app(settings, settle_heap=True)


async def serve_api(settings: Settings, *, migrations: bool = True) -> None:
    """Serve the HTTP API and the web console until cancelled."""
    app = build_app(settings, migrations=migrations, settle_heap=True)
    config = uvicorn.Config(
        app,
        host=settings.api_host,
        port=settings.api_port,
        log_config=None,
        access_log=_access_log(settings),
        lifespan="on",
        timeout_graceful_shutdown=10,
    )
    server = _Server(config)
    task = asyncio.create_task(server.serve(), name="uvicorn")
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        # Let uvicorn finish its requests and run the lifespan's shutdown instead of cutting it off;
        # live streams never finish by themselves, so end them first.
        end_streams(app)
        server.should_exit = True
        await task
        raise


def serve_api_workers(settings: Settings) -> None:
    """Serve the API from `api_workers` uvicorn processes (settings come from the environment in each)."""
    uvicorn.run(
        "telecare.services:app_from_environment",
        factory=True,
        host=settings.api_host,
        port=settings.api_port,
        workers=settings.api_workers,
        log_config=None,
        access_log=_access_log(settings),
        lifespan="on",
        timeout_graceful_shutdown=10,
    )


def _access_log(settings: Settings) -> bool:
    # uvicorn logs each request at INFO; above that level it would build the line only to drop it.
    return settings.log_level in ("DEBUG", "INFO")


async def run_demo_accounts(settings: Settings) -> None:
    """Create the demo's coordinator and family member once a simulated home exists, then idle."""
    assert settings.bootstrap_admin_password is not None
    pool = await create_pool(require_database_url(settings), min_size=1, max_size=1)
    try:
        async with pool.acquire() as conn:
            await migrate(conn, storage=settings.storage)
        password = settings.bootstrap_admin_password.get_secret_value()
        while not await seed_demo_accounts(pool, password=password):
            await asyncio.sleep(1)
        for _ in range(300):  # the simulator staffs the homes after provisioning them all
            if await seed_demo_carer(pool, password=password):
                break
            await asyncio.sleep(1)
        log.info("demo accounts ready")
    finally:
        await pool.close()
    await asyncio.Event().wait()


def serve_ingest_metrics(settings: Settings) -> None:
    """Serve Prometheus metrics for a standalone ingest process (the API serves them in `telecare run`)."""
    if settings.ingest_metrics_port:
        prometheus_client.start_http_server(settings.ingest_metrics_port, addr=settings.api_host)
        log.info("ingest metrics on http://%s:%d/metrics", settings.api_host, settings.ingest_metrics_port)


async def run_ingest(
    settings: Settings, *, subscribed: asyncio.Event | None = None, settle_heap: bool = False
) -> None:
    """Run migrations, storage upkeep, an ingest worker and its priority lane until cancelled.

    subscribed: set once the main worker listens. settle_heap: the process is the worker's own, so tune
    its garbage collector once subscribed.
    """
    pool = await create_pool(require_database_url(settings), min_size=2, max_size=settings.db_pool_max)
    try:
        async with pool.acquire() as conn:
            report = await migrate(conn, storage=settings.storage)
            await apply_retention(conn, info=report.storage, retention_days=settings.retention_days)
        # Today's partition and the next days' exist before the first message is taken: a batch then
        # never meets their creation (a worker once died of that race; the writer now retries it too).
        # The periodic job runs it again at once, finding nothing to do, or retrying a failure.
        try:
            await upkeep.keep_readings(
                pool,
                info=report.storage,
                retention_days=settings.retention_days,
                ahead_days=settings.partitions_ahead_days,
            )
        except (asyncpg.PostgresError, OSError) as exc:
            log.warning("storage maintenance before ingest failed, will retry: %s", exc)
        mode = settings.ingest_priority_lane
        lane = PriorityLane(settings, mode) if mode is not LaneMode.OFF else None
        worker = IngestWorker(
            pool=pool,
            mqtt=mqtt_config(
                settings,
                client_id=settings.mqtt_client_id,
                clean_start=False,
                session_expiry_s=SESSION_EXPIRY_S,
                receive_maximum=settings.mqtt_receive_maximum,
            ),
            topic_root=settings.mqtt_topic_root,
            batch_size=settings.ingest_batch_size,
            batch_ms=settings.ingest_batch_ms,
            shared=settings.ingest_shared_subscription,
            priority_lane_ready=lane.ready if lane is not None else None,
        )
        if subscribed is not None:
            worker.subscribed = subscribed
        async with asyncio.TaskGroup() as group:
            group.create_task(worker.run(), name="ingest")
            if lane is not None:
                group.create_task(lane.run(), name="ingest-priority-lane")
            if settle_heap:
                group.create_task(_settle_when(worker.subscribed), name="settle-heap")
            _schedule_upkeep(group, pool, settings, report.storage)
    finally:
        await pool.close()


# How often ingest's upkeep runs: readings' partitions and rollup, and pruning its logs.
UPKEEP_S = 300.0


def _schedule_upkeep(
    group: asyncio.TaskGroup, pool: asyncpg.Pool, settings: Settings, storage: StorageInfo
) -> None:
    # Each owner's periodic job, run beside the ingest worker: readings and the logs (ingest's),
    # the heartbeat check (devices').
    readings = partial(
        upkeep.keep_readings,
        pool,
        info=storage,
        retention_days=settings.retention_days,
        ahead_days=settings.partitions_ahead_days,
    )
    group.create_task(every(UPKEEP_S, readings, what="storage maintenance"), name="maintenance")
    logs = partial(upkeep.prune_logs, pool, retention_days=settings.retention_days)
    group.create_task(every(UPKEEP_S, logs, what="ingest log pruning"), name="ingest-logs")
    # The visits' verification log (visits'): verdicts from the home's sensors after each visit.
    verdicts = partial(
        verify_job.verify_due, pool, verify_job.JobOptions(settle_s=settings.visits_verify_settle_s)
    )
    group.create_task(
        every(settings.visits_verify_interval_s, verdicts, what="visit verification"),
        name="visit-verification",
    )
    heartbeats = partial(health.check_heartbeats, pool)
    group.create_task(
        every(settings.health_check_s, heartbeats, what="heartbeat check"), name="device-health"
    )
    _schedule_visits(group, pool, settings)


def _schedule_visits(group: asyncio.TaskGroup, pool: asyncpg.Pool, settings: Settings) -> None:
    # The visits' periodic jobs (issue 14): plans rolled over the horizon, door-reader tags read from
    # the ingest log, and the live rules (late, missed, short, no check-out) on the system clock.
    async def roll() -> None:
        await materialise.roll_all(pool, now=system_clock(), horizon_days=settings.visits_horizon_days)

    group.create_task(
        every(settings.visits_materialise_s, roll, what="visit materialisation"), name="visit-plans"
    )
    tags = TagJob(pool, CheckConfig.from_settings(settings))
    group.create_task(every(settings.visits_tags_s, tags.run_once, what="visit tags"), name="visit-tags")
    rules = RulesJob(pool)
    group.create_task(every(settings.visits_rules_s, rules.run_once, what="visit rules"), name="visit-rules")


@asynccontextmanager
async def registry_session(
    settings: Settings, *, client: str
) -> AsyncIterator[tuple[asyncpg.Pool, DynsecAdmin]]:
    """A small pool on a migrated database and a connected broker admin, for provisioning work."""
    pool = await create_pool(require_database_url(settings), min_size=1, max_size=4)
    try:
        async with pool.acquire() as conn:
            await migrate(conn, storage=settings.storage)
        async with connect_admin(
            mqtt_config(settings, client_id=f"{client}-{uuid.uuid4().hex[:8]}")
        ) as admin:
            yield pool, admin
    finally:
        await pool.close()


async def run_simulator(settings: Settings, options: SimOptions | None = None) -> Summary:
    """Provision simulated homes and publish them (demo: the last day fast, then live until cancelled)."""
    if options is None:
        options = SimOptions(homes=settings.simulate_homes, live=True, care_plans=True)
    async with registry_session(settings, client="telecare-sim") as (pool, admin):
        summary = await simulate(
            pool, admin, options, topic_root=settings.mqtt_topic_root, mqtt_url=settings.mqtt_url or ""
        )
    log.info("simulation finished: %s", summary.render())
    return summary


async def run_detector(settings: Settings, *, ready: asyncio.Event | None = None) -> None:
    """Run the streaming detector until cancelled (`telecare detect`, and inside `telecare run`)."""
    from anomaly.service import serve

    await serve(settings, ready=ready)


async def _settle_when(started: asyncio.Event) -> None:
    await started.wait()
    heap.settle()


async def run_notifier(settings: Settings, *, ready: asyncio.Event | None = None) -> None:
    """Run the notification dispatcher until cancelled (`telecare notify`, and inside `telecare run`)."""
    from notifications.process import serve as serve_notifications

    await serve_notifications(settings, ready=ready)
