"""Hot routes whose endpoint arguments are built by hand instead of by FastAPI's dependency solving.

FastAPI re-inspects every parameter's annotation on every request; on the alert listing that cost more
CPU than the database query (issue 6). A route made with `resolved_by` is still documented from its
endpoint's signature (parameters, security schemes, response model), but its arguments come from a
resolver that validates the query with the same pydantic model in one call (`query_model`) and
authenticates the same way as the `CallerDep` dependency (`api.deps.request_caller`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar, get_args, get_origin

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError
from starlette.datastructures import QueryParams

Resolver = Callable[[Request], Awaitable[dict[str, Any]]]
Model = TypeVar("Model", bound=BaseModel)


def resolved_by(resolve: Resolver) -> type[APIRoute]:
    """An APIRoute class whose endpoint is called with the keyword arguments `resolve` builds."""

    class ResolvedRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            endpoint = self.endpoint

            async def handler(request: Request) -> Response:
                response = await endpoint(**await resolve(request))
                # Only endpoints that build their own Response fit: nothing here applies response_model.
                assert isinstance(response, Response), "a resolved endpoint must return a Response"
                return response

            return handler

    return ResolvedRoute


def query_model(model: type[Model], params: QueryParams) -> Model:
    """The query parameters validated as `model` (list fields from repeated parameters), or a 422."""
    data: dict[str, Any] = {}
    for name in model.model_fields.keys() & params.keys():
        if name in _list_fields(model):
            data[name] = params.getlist(name)
        else:
            data[name] = params[name]
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        # The shape FastAPI gives its own query errors, so the problem response is the same.
        errors = [{**e, "loc": ("query", *e["loc"])} for e in exc.errors(include_url=False)]
        raise RequestValidationError(errors) from None


_LIST_FIELDS: dict[type[BaseModel], frozenset[str]] = {}


def _list_fields(model: type[BaseModel]) -> frozenset[str]:
    # Computed once per model: which fields take every value of a repeated parameter.
    names = _LIST_FIELDS.get(model)
    if names is None:
        names = frozenset(name for name, field in model.model_fields.items() if _is_list(field.annotation))
        _LIST_FIELDS[model] = names
    return names


def _is_list(annotation: Any) -> bool:
    if get_origin(annotation) is list:
        return True
    return any(_is_list(arg) for arg in get_args(annotation) if arg is not type(None))
