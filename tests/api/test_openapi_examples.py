"""The OpenAPI document shows an example for every request and response body, and every example is valid.

No server: the document comes from `app.openapi()`. Each component schema's examples are validated
with the pydantic model it was made from; examples given on an operation, with the type of its body
or response. An example must not carry keys the model would drop (a misspelt field in a model that
ignores extra keys would otherwise pass).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from pydantic import TypeAdapter

from api.main import create_app
from api.openapi import api_routes, body_type, route_models
from kernel.settings import Settings

Operation = tuple[str, str]  # (METHOD, path)


@pytest.fixture(scope="module")
def app() -> FastAPI:
    """The app with settings that name a database and broker it never connects to."""
    settings = Settings(
        _env_file=None,
        database_url="postgresql://telecare@127.0.0.1:1/telecare",
        mqtt_url="mqtt://127.0.0.1:1",
        jwt_secret="an-openapi-test-secret-of-32-chars-or-more",
    )
    return create_app(settings)


@pytest.fixture(scope="module")
def document(app: FastAPI) -> dict[str, Any]:
    """The app's OpenAPI document."""
    return app.openapi()


def _key_paths(value: Any, prefix: str = "") -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield f"{prefix}/{key}"
            yield from _key_paths(item, f"{prefix}/{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _key_paths(item, f"{prefix}/{index}")


def _check(adapter: TypeAdapter[Any], example: Any, where: str) -> list[str]:
    """Why the example is not a valid instance of the adapter's type, if it is not."""
    try:
        parsed = adapter.validate_json(json.dumps(example))
    except ValueError as exc:
        return [f"{where}: {exc}"]
    dropped = set(_key_paths(example)) - set(_key_paths(adapter.dump_python(parsed, mode="json")))
    return [f"{where}: keys the model does not have: {sorted(dropped)}"] if dropped else []


def _schema_examples(schema: dict[str, Any]) -> list[Any]:
    return ([schema["example"]] if "example" in schema else []) + list(schema.get("examples", []))


def _content_examples(content: dict[str, Any]) -> list[Any]:
    named = content.get("examples", {})
    return ([content["example"]] if "example" in content else []) + [e["value"] for e in named.values()]


def _shows_example(content: dict[str, Any], components: dict[str, Any]) -> bool:
    if _content_examples(content):
        return True
    schema = content.get("schema", {})
    while True:
        if _schema_examples(schema):
            return True
        if "$ref" in schema:
            schema = components[schema["$ref"].rsplit("/", 1)[-1]]
        elif schema.get("type") == "array" and "items" in schema:
            schema = schema["items"]
        else:
            return False


def _json_bodies(document: dict[str, Any]) -> Iterator[tuple[Operation, str, dict[str, Any]]]:
    """(operation, "request" or the status code, the application/json content) of every JSON body."""
    for path, item in document["paths"].items():
        for method, operation in item.items():
            key = (method.upper(), path)
            request = operation.get("requestBody", {}).get("content", {})
            if "application/json" in request:
                yield key, "request", request["application/json"]
            for status, response in operation.get("responses", {}).items():
                if status.startswith("2") and "application/json" in response.get("content", {}):
                    yield key, status, response["content"]["application/json"]


def test_every_json_body_of_every_operation_shows_an_example(document: dict[str, Any]) -> None:
    components = document["components"]["schemas"]
    bodies = list(_json_bodies(document))
    missing = [f"{m} {p} {what}" for (m, p), what, c in bodies if not _shows_example(c, components)]
    assert len(bodies) > 40, "the document lost its operations"
    assert not missing, "no example for:\n" + "\n".join(missing)


def test_every_component_example_is_valid_for_its_model(app: FastAPI, document: dict[str, Any]) -> None:
    models = route_models(app)
    problems: list[str] = []
    checked = 0
    for name, schema in document["components"]["schemas"].items():
        examples = _schema_examples(schema)
        if not examples:
            continue
        if name not in models:
            problems.append(f"{name}: examples, but no model of an operation is called so")
            continue
        adapter: TypeAdapter[Any] = TypeAdapter(models[name])
        for index, example in enumerate(examples):
            problems += _check(adapter, example, f"{name} example {index}")
            checked += 1
    assert checked > 40, "the component examples went missing"
    assert not problems, "\n".join(problems)


def test_every_operation_example_is_valid_for_its_body_or_response(
    app: FastAPI, document: dict[str, Any]
) -> None:
    routes = api_routes(app)
    problems: list[str] = []
    for operation, what, content in _json_bodies(document):
        examples = _content_examples(content) + _schema_examples(content.get("schema", {}))
        if not examples:
            continue  # any example is in a component schema, checked with its model
        route = routes[operation]
        kind = body_type(route) if what == "request" else route.response_model
        adapter: TypeAdapter[Any] = TypeAdapter(kind)
        for index, example in enumerate(examples):
            problems += _check(adapter, example, f"{' '.join(operation)} {what} example {index}")
    assert not problems, "\n".join(problems)


def test_the_optional_acknowledgement_body_shows_its_example(document: dict[str, Any]) -> None:
    body = document["paths"]["/v1/alerts/{alert_id}/acknowledge"]["post"]["requestBody"]
    assert {"note": "calling her now"} in _schema_examples(body["content"]["application/json"]["schema"])


def test_the_message_schema_example_is_the_schema_of_a_kind(document: dict[str, Any]) -> None:
    content = document["paths"]["/v1/contract/messages/{kind}"]["get"]["responses"]["200"]["content"]
    example = content["application/json"]["example"]
    assert example["title"] == "MotionMessage" and example["examples"][0]["detected"] is True


def test_examples_keep_their_nulls(document: dict[str, Any]) -> None:
    # FastAPI encodes the document without nulls; api.openapi puts the models' examples back.
    assert document["components"]["schemas"]["ApiKeyOut"]["examples"][0]["revoked_at"] is None
