"""The device MQTT contract, served for firmware developers."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, ConfigDict

from api.errors import problems
from devices.contract import MessageKind, example_payloads, message_json_schemas

router = APIRouter(prefix="/v1/contract", tags=["device contract"], responses=problems(404, 422))


class ContractIndex(BaseModel):
    """The contract's version, topic layout and message kinds."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "version": 1,
                    "topic": "{root}/v1/{home_id}/{device_id}/{kind}",
                    "command_topic": "{root}/v1/{home_id}/{device_id}/cmd",
                    "kinds": [k.value for k in MessageKind],
                }
            ]
        }
    )

    version: int
    topic: str
    command_topic: str
    kinds: list[str]


@router.get("", response_model=ContractIndex)
async def contract_index() -> ContractIndex:
    """The MQTT contract: topic layout and the kinds of message."""
    return ContractIndex(
        version=1,
        topic="{root}/v1/{home_id}/{device_id}/{kind}",
        command_topic="{root}/v1/{home_id}/{device_id}/cmd",
        kinds=[k.value for k in MessageKind],
    )


def _with_example(schemas: dict[str, dict[str, Any]], kind: str) -> dict[str, Any]:
    return {**schemas[kind], "examples": [example_payloads()[kind]]}


# What GET /v1/contract/messages/motion returns, as the documented example.
_MOTION_SCHEMA = _with_example(message_json_schemas(), MessageKind.MOTION.value)


@router.get(
    "/messages/{kind}", responses={200: {"content": {"application/json": {"example": _MOTION_SCHEMA}}}}
)
async def message_schema(kind: str) -> dict[str, Any]:
    """JSON Schema of one message kind, with an example."""
    schemas = message_json_schemas()
    if kind not in schemas:
        raise HTTPException(404, f"unknown message kind {kind!r}; known: {', '.join(schemas)}")
    return _with_example(schemas, kind)
