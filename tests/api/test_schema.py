"""schemathesis against the served OpenAPI document: no 500, no response that breaks the schema.

The API runs as `telecare api` in its own process (the checks make blocking HTTP calls); every
operation gets a bounded number of generated requests, authenticated as the platform admin.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from kernel.embedded.process import free_port
from kernel.settings import Settings
from tests.conftest import ADMIN_TOKEN, JWT_SECRET
from tests.support import telecare_env

EXAMPLES = 20
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
ENDLESS = {("GET", "/v1/alerts/stream")}


@pytest.fixture
async def api_process(settings: Settings) -> AsyncIterator[str]:
    """`telecare api` on a free port against this test's database and broker; its base URL."""
    port = free_port()
    env = telecare_env(settings, TELECARE_JWT_SECRET=JWT_SECRET, TELECARE_API_PORT=str(port))
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "telecare.cli", "api", env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=url) as probe, asyncio.timeout(30):
            while True:
                with contextlib.suppress(httpx.TransportError):
                    if (await probe.get("/ready")).status_code == 200:
                        break
                await asyncio.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        await proc.wait()


def _fuzz(url: str, mode: GenerationMode, checks: list[Any]) -> list[str]:
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
    failures: list[str] = []
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    for result in schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]
        if (operation.method.upper(), operation.path) in ENDLESS:
            continue

        @given(case=operation.as_strategy(mode))
        @hypothesis_settings(
            max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        def check(case: Any) -> None:
            case.call_and_validate(base_url=url, headers=headers, checks=checks, timeout=10)

        try:
            check()
        except Unsatisfiable:
            continue  # nothing to make invalid (an operation without parameters or body)
        except (Exception, BaseExceptionGroup) as exc:  # collect every operation's failures, then report
            failures.append(f"{operation.method.upper()} {operation.path}: {str(exc)[:2000]}")
    return failures


async def test_the_api_honours_its_openapi_document(api_process: str) -> None:
    failures = await asyncio.to_thread(_fuzz, api_process, GenerationMode.POSITIVE, CHECKS)
    assert not failures, "\n\n".join(failures)


async def test_invalid_requests_are_refused_with_a_reason_never_a_500(api_process: str) -> None:
    failures = await asyncio.to_thread(_fuzz, api_process, GenerationMode.NEGATIVE, [not_a_server_error])
    assert not failures, "\n\n".join(failures)


async def test_every_operation_documents_an_example_or_a_schema(api_process: str) -> None:
    async with httpx.AsyncClient(base_url=api_process) as client:
        document = (await client.get("/openapi.json")).json()
    missing = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if not operation.get("summary") or not operation.get("description"):
                missing.append(f"{method.upper()} {path}: no summary or description")
    assert not missing, missing
