"""The models behind the OpenAPI document, and their examples put back as the models give them.

FastAPI encodes the document with `exclude_none`, which also strips the nulls out of examples
(`"revoked_at": null` vanishes, and the example no longer fits a schema that requires the field).
"""

from __future__ import annotations

import copy
import typing
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel


def api_routes(app: FastAPI) -> dict[tuple[str, str], APIRoute]:
    """Every API route of the app by (METHOD, path) as the document names its operations."""
    found: dict[tuple[str, str], APIRoute] = {}
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute):
            for method in route.methods or ():
                found[(method.upper(), context.path_format or route.path_format)] = route
    return found


def body_type(route: APIRoute) -> Any:
    """The type the route's request body is validated as (None without a body)."""
    return route.body_field.field_info.annotation if route.body_field is not None else None


def _collect(annotation: Any, seen: set[type[BaseModel]]) -> None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation not in seen:
            seen.add(annotation)
            for field in annotation.model_fields.values():
                _collect(field.annotation, seen)
        return
    for arg in typing.get_args(annotation):
        _collect(arg, seen)


def route_models(app: FastAPI) -> dict[str, type[BaseModel]]:
    """Every pydantic model an operation accepts or returns, by the name of its component schema."""
    seen: set[type[BaseModel]] = set()
    for route in api_routes(app).values():
        _collect(route.response_model, seen)
        _collect(body_type(route), seen)
        for response in route.responses.values():
            _collect(response.get("model"), seen)
    names = [model.__name__ for model in seen]
    # Two models of one name get qualified names in the document: leave them out rather than guess.
    return {model.__name__: model for model in seen if names.count(model.__name__) == 1}


def restore_examples(document: dict[str, Any], models: dict[str, type[BaseModel]]) -> None:
    """Replace each component's examples with its model's own (nulls included)."""
    for name, schema in document.get("components", {}).get("schemas", {}).items():
        model = models.get(name)
        if model is not None and "examples" in schema:
            examples = model.model_json_schema().get("examples")
            if examples is not None:
                schema["examples"] = copy.deepcopy(examples)
