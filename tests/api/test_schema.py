"""schemathesis against the served OpenAPI document: no 500, no response that breaks the schema.

The API runs as `telecare api` in its own process (the checks make blocking HTTP calls); every
operation gets a bounded number of generated requests, authenticated as the platform admin: valid ones,
invalid ones (which must be refused: 4xx, never 2xx), and the stateful phase, which chains calls along
the document's links (create an organisation, a home in it, a device in that; then read, rotate, revoke).
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)

from api.links import LINKS
from tests.conftest import ADMIN_TOKEN

# Per operation, for each of the two stateless runs; and scenarios of the stateful run (up to 8 calls
# each). Chosen to keep this file near two minutes on a busy 2-core machine; the outside probe used 50.
EXAMPLES = 20
STATEFUL_EXAMPLES = 40
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# What the schema forbids is refused (4xx, never 2xx), with a documented status and a problem body.
NEGATIVE_CHECKS = [
    not_a_server_error,
    negative_data_rejection,
    status_code_conformance,
    content_type_conformance,
]
ENDLESS = {("GET", "/v1/alerts/stream")}


def _as_admin(case: Any) -> None:
    # A generated X-API-Key would be tried before the admin's bearer token: every request a 401.
    if case.headers:
        case.headers.pop("X-API-Key", None)


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
            _as_admin(case)
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
    failures = await asyncio.to_thread(_fuzz, api_process, GenerationMode.NEGATIVE, NEGATIVE_CHECKS)
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


def _stateful(url: str, examples: int) -> list[tuple[str, str, int]]:
    """Run the state machine along the document's links; every call made, as (method, path, status)."""
    # The operations the links chain (api/links.py): creating, then reading, changing and revoking what
    # was created; the stateless tests above cover every operation on its own.
    linked = {path for (_, path, _), (_, _, to) in LINKS.items() for path in [path, *(p for _, p in to)]}
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json").include(path=sorted(linked))
    calls: list[tuple[str, str, int]] = []

    class Workflow(schema.as_state_machine()):  # type: ignore[misc]
        def before_call(self, case: Any) -> None:
            _as_admin(case)

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": {"Authorization": f"Bearer {ADMIN_TOKEN}"}, "timeout": 10}

        def after_call(self, response: Any, case: Any) -> None:
            super().after_call(response, case)
            calls.append((case.method.upper(), case.path, response.status_code))

        def validate_response(
            self, response: Any, case: Any, additional_checks: Any = None, **kwargs: Any
        ) -> None:
            # Every check of this schemathesis but one: a request that fits the schema may still be
            # refused with a reason (422: a time range backwards, a user of the wrong role).
            case.validate_response(
                response,
                excluded_checks=[positive_data_acceptance],
                transport_kwargs=kwargs or None,
                recorder=getattr(self, "recorder", None),
            )

    Workflow.run(
        settings=hypothesis_settings(
            max_examples=examples,
            stateful_step_count=8,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
    )
    return calls


async def test_stateful_workflows_along_the_links_hold(api_process: str) -> None:
    """schemathesis' stateful phase: create, then use what was created (its checks include use after
    free and resource availability); and the links are followed, not only random ids tried."""
    calls = await asyncio.to_thread(_stateful, api_process, STATEFUL_EXAMPLES)
    consumers = {(m.upper(), p) for _, _, to in LINKS.values() for m, p in to}
    chained = [c for c in calls if (c[0], c[1]) in consumers and 200 <= c[2] < 300]
    assert chained, calls
