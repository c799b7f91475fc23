"""What the API shows without credentials, and the settings that close it in production."""

from __future__ import annotations

from pydantic import SecretStr

from kernel.settings import Settings
from tests.api.world import running_app

DOCS = ("/docs", "/redoc", "/openapi.json")


async def test_docs_and_metrics_are_served_by_default(settings: Settings) -> None:
    async with running_app(settings) as (_, client):
        for path in (*DOCS, "/metrics"):
            assert (await client.get(path)).status_code == 200, path


async def test_api_docs_false_takes_the_schema_and_explorers_away(settings: Settings) -> None:
    async with running_app(settings.model_copy(update={"api_docs": False})) as (app, client):
        for path in DOCS:
            assert (await client.get(path)).status_code == 404, path
        # The schema is still built for whoever holds the app (tests, tooling), only not served.
        assert app.openapi()["info"]["title"] == "Telecare API"


async def test_api_metrics_false_takes_metrics_away(settings: Settings) -> None:
    async with running_app(settings.model_copy(update={"api_metrics": False})) as (_, client):
        assert (await client.get("/metrics")).status_code == 404


async def test_a_metrics_token_is_required_once_set(settings: Settings) -> None:
    token = "scraper-secret-of-some-length"
    guarded = settings.model_copy(update={"metrics_token": SecretStr(token)})
    async with running_app(guarded) as (_, client):
        assert (await client.get("/metrics")).status_code == 401
        wrong = await client.get("/metrics", headers={"Authorization": "Bearer not-it"})
        assert wrong.status_code == 401 and "TELECARE_METRICS_TOKEN" in wrong.json()["detail"]
        right = await client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
        assert right.status_code == 200 and right.text.startswith("#")
