"""The FastAPI application and its lifespan."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from fastapi import Depends, FastAPI

from accounts import queries as account_queries
from accounts import service as accounts
from accounts.service import AuthConfig
from accounts.throttle import ThrottleConfig
from api.deps import metrics_guard
from api.errors import Problem, install_error_handlers, problems
from api.limits import BodyLimit
from api.links import add_links
from api.openapi import restore_examples, route_models
from api.resources import Resources
from api.routes import accounts as accounts_routes
from api.routes import alerts, auth, contract, health, homes, metrics, readings, registry, visit_reports
from api.routes import care_plans as care_plan_routes
from api.routes import notifications as notifications_routes
from api.routes import rostering as rostering_routes
from api.routes import visits as visit_routes
from api.security import Gatekeeper
from api.stream import Broadcaster
from devices.dynsec import DynsecAdmin
from kernel import heap
from kernel.connect import mqtt_config, require_database_url
from kernel.db import create_pool
from kernel.logs import configure_logging
from kernel.migrate import migrate
from kernel.mqtt import AsyncMqttClient
from kernel.settings import Settings, SettingsError, load_settings
from kernel.storage import detect_storage
from rostering import setup as rostering_setup

log = logging.getLogger(__name__)

# Allocations (net of frees) between young collections; the default is 700.
# A page's rows are freed by reference counting; young collections every few requests cost CPU.
_GC_YOUNG_THRESHOLD = 10_000

DESCRIPTION = """Alerts, readings and homes for families and care providers.

Log in with `POST /v1/auth/token` (OAuth2 password flow: form fields `username` = email, `password`) and
send the access token as `Authorization: Bearer ...`; integrations send an organisation's API key as
`X-API-Key`. Every listing is scoped to the caller: a family member sees the homes of their circle of
care, a carer the homes they are assigned to, a provider's coordinators their organisation's homes.
Another tenant's resource answers 404. Errors are `application/problem+json` with the reason in `detail`.
"""


def auth_config(settings: Settings) -> AuthConfig:
    """The token settings; SettingsError if there is no usable signing key."""
    secret = settings.jwt_secret.get_secret_value() if settings.jwt_secret else ""
    if len(secret) < 32:
        raise SettingsError("TELECARE_JWT_SECRET: must be set to at least 32 characters for the API")
    return AuthConfig(
        secret=secret,
        access_lifetime=timedelta(minutes=settings.access_token_minutes),
        refresh_lifetime=timedelta(days=settings.refresh_token_days),
        invitation_lifetime=timedelta(days=settings.invitation_days),
        throttle=ThrottleConfig(
            window_s=settings.login_window_s,
            free_per_pair=settings.login_free_failures,
            free_per_network=settings.login_network_free_failures,
            free_per_email=settings.login_email_free_failures,
            base_delay_s=settings.login_base_delay_s,
            max_delay_s=settings.login_max_delay_s,
            known_network_days=settings.login_known_network_days,
        ),
    )


def create_app(settings: Settings, *, run_migrations: bool = True, settle_heap: bool = False) -> FastAPI:
    """Build the app; the lifespan opens the pool, broker connection and alert stream and closes them at exit.

    The settings must name the database and broker (the runtime fills them in for embedded servers) and
    a JWT secret. settle_heap: a serving process tunes its garbage collector once started (kernel.heap).
    """
    database_url = require_database_url(settings)
    config = auth_config(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Requests leave no session state on a pooled connection (no SET, no LISTEN: the live stream has
        # its own connection; advisory locks are transaction-scoped, the migration's is released), so
        # releases skip the reset round trip that doubled the queries of every read.
        pool = await create_pool(
            database_url,
            min_size=settings.db_pool_min,
            max_size=settings.db_pool_max,
            reset_sessions=False,
        )
        try:
            async with pool.acquire() as conn:
                report = await migrate(conn, storage=settings.storage) if run_migrations else None
                storage = report.storage if report else await detect_storage(conn)
            await _bootstrap(pool, settings)
            gate = Gatekeeper(pool, config, cache_s=settings.scope_cache_s)
            streams = Broadcaster(database_url, pool)
            # Revocations made by any API process reach this one's caches; after a gap, start over.
            streams.listen(account_queries.ACCESS_CHANNEL, gate.heard, missed=gate.forget)
            await streams.start()
            try:
                client = AsyncMqttClient(
                    mqtt_config(settings, client_id=f"telecare-api-{uuid.uuid4().hex[:8]}")
                )
                await client.connect()
                dynsec = DynsecAdmin(client)
                await dynsec.start()
                app.state.resources = Resources(
                    settings, pool, client, dynsec, storage, config, gate, streams
                )
                # Rostering (issue 18): roster jobs run in this process; stopped before the pool closes.
                app.state.roster_jobs = rostering_setup.jobs_from(settings, pool)
                if settle_heap:
                    heap.settle(young_threshold=_GC_YOUNG_THRESHOLD)
                try:
                    yield
                finally:
                    await app.state.roster_jobs.close()
                    await dynsec.close()
                    await client.disconnect()
            finally:
                await streams.close()
        finally:
            await pool.close()

    app = FastAPI(
        title="Telecare API",
        version="0.2.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        # In production the schema can stay private (TELECARE_API_DOCS=false; docs/production.md).
        docs_url="/docs" if settings.api_docs else None,
        redoc_url="/redoc" if settings.api_docs else None,
        openapi_url="/openapi.json" if settings.api_docs else None,
    )
    install_error_handlers(app)
    app.add_middleware(BodyLimit, max_bytes=settings.api_max_body_bytes)
    # Routes are matched in order: the hot listings come first (the visits board, then the alerts).
    app.include_router(visit_routes.board_router)
    for module in (alerts, health, contract, auth, accounts_routes, homes, registry, readings, visit_reports):
        app.include_router(module.router)
    # Carer visits (issue 14): /v1/visits/mine before /v1/visits/{visit_id}, in the module's order.
    for module in (visit_routes, care_plan_routes):
        app.include_router(module.router)
    app.include_router(notifications_routes.router)
    app.include_router(notifications_routes.ack_router)
    app.include_router(rostering_routes.router)  # rostering (issue 18)
    if settings.api_metrics:
        app.include_router(metrics.router, dependencies=[Depends(metrics_guard(settings.metrics_token))])
    _document_problems(app)
    return app


async def _bootstrap(pool: Any, settings: Settings) -> None:
    if settings.bootstrap_admin_email and settings.bootstrap_admin_password:
        created = await accounts.ensure_platform_admin(
            pool,
            email=settings.bootstrap_admin_email,
            password=settings.bootstrap_admin_password.get_secret_value(),
        )
        if created:
            log.info("created the first platform admin %s", settings.bootstrap_admin_email)


def _document_problems(app: FastAPI) -> None:
    """Add the Problem schema the routes' error responses refer to; give the examples their nulls back."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = (
                Problem.model_json_schema()
            )
            restore_examples(schema, route_models(app))
            _document_body_problems(schema)
            add_links(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _document_body_problems(schema: dict[str, Any]) -> None:
    """Every operation that takes a body may answer 400 (unreadable) and 413 (too large)."""
    for item in schema.get("paths", {}).values():
        for operation in item.values():
            if "requestBody" in operation:
                for code, response in problems(400, 413).items():
                    operation.setdefault("responses", {}).setdefault(str(code), response)


def end_streams(app: FastAPI) -> None:
    """End the app's open live streams (before a server shutdown, which waits for responses to finish)."""
    resources: Resources | None = getattr(app.state, "resources", None)
    if resources is not None:
        resources.streams.end_streams()


def app_from_environment() -> FastAPI:
    """The app for `uvicorn --factory` (several worker processes): settings from the environment."""
    settings = load_settings()
    configure_logging(settings)
    return create_app(settings, settle_heap=True)
