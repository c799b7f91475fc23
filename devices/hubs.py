"""Home hubs in the device contract (version 1.1): one connection carrying a home's devices' readings.

A hub is a device of type `hub` registered to a home. Besides its own messages on its own topics (its
presence with last will, its heartbeat and status, exactly as any v1 device), it may publish:

- on behalf of any device registered to its home, on that device's own v1 topics (the broker's ACL
  lets a hub publish under `{root}/v1/{home_id}/+/+`, nothing else), a single message as the device
  itself would send it; the priority kinds should always go this way, so that they reach the priority
  lane at once;
- a batch on `{root}/v1/{home_id}/{hub_id}/batch`: `{"readings": [item, ...]}` where each item is one
  device message with two more fields, `device_id` (the device it came from) and `kind` (required
  here). Each item is judged and stored on its own: a bad item is dead-lettered with its reason and
  the others are stored; the batch is acknowledged once all of it is committed.

This module reads the batch's envelope and splits it into items; each item's own fields are checked
by the v1 message models (devices.contract), unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

import orjson

from devices.contract import (
    CONTRACT_VERSION_SEGMENT,
    ContractError,
    MessageKind,
    check_root,
    decode_payload,
    parse_id,
    parse_kind,
    show,
)
from devices.messages import json_type_name

BATCH_SEGMENT = "batch"
# Readings one batch may carry: enough for a hub's few seconds of a busy home, small enough that one
# batch is never a large share of the worker's window.
MAX_BATCH_READINGS = 200
HUB_TYPE = "hub"


@dataclass(frozen=True, slots=True)
class BatchAddress:
    """The hub and home a batch came from, as read from its topic."""

    home_id: UUID
    hub_id: UUID


@dataclass(frozen=True, slots=True)
class BatchItem:
    """One reading of a batch, before its fields are checked: the device, the kind, the rest."""

    index: int
    device_id: UUID
    kind: MessageKind
    data: dict[str, Any]

    @property
    def raw(self) -> bytes:
        """The item as JSON, for its dead letter."""
        return orjson.dumps({"device_id": str(self.device_id), **self.data})


def batch_topic(root: str, home_id: UUID, hub_id: UUID) -> str:
    """Topic a hub publishes its batches on."""
    check_root(root)
    return f"{root}/{CONTRACT_VERSION_SEGMENT}/{home_id}/{hub_id}/{BATCH_SEGMENT}"


def hub_publish_topic(root: str, home_id: UUID) -> str:
    """The topic filter a hub may publish under: every device topic of its home."""
    check_root(root)
    return f"{root}/{CONTRACT_VERSION_SEGMENT}/{home_id}/+/+"


def hub_command_topic(root: str, home_id: UUID) -> str:
    """The topic filter of its home's command topics, which a hub subscribes to and relays."""
    check_root(root)
    return f"{root}/{CONTRACT_VERSION_SEGMENT}/{home_id}/+/cmd"


def is_batch_topic(topic: str) -> bool:
    """Whether a topic is a hub's batch topic (cheap: its last segment)."""
    return topic.endswith("/" + BATCH_SEGMENT)


def parse_batch_topic(topic: str, *, root: str) -> BatchAddress:
    """Split a batch topic into home and hub; ContractError (bad_topic) if it is malformed."""
    check_root(root)
    prefix = root + "/"
    parts = topic[len(prefix) :].split("/") if topic.startswith(prefix) else []
    if len(parts) != 4 or parts[0] != CONTRACT_VERSION_SEGMENT or parts[3] != BATCH_SEGMENT:
        raise ContractError(
            "bad_topic", f"topic {show(topic, 200)} does not match {root}/v1/<home_id>/<hub_id>/batch"
        )
    return BatchAddress(parse_id(parts[1], "home_id"), parse_id(parts[2], "hub_id"))


def parse_batch(payload: bytes) -> list[dict[str, Any] | ContractError]:
    """The batch's items (each still to be split and checked); ContractError if the envelope is bad."""
    data = decode_payload(payload)
    extra = sorted(set(data) - {"readings", "v"})
    if extra:
        raise ContractError("unknown_field", f"field {show(extra[0])} is not part of a batch", extra[0])
    if "v" in data and (type(data["v"]) is not int or data["v"] != 1):
        raise ContractError("bad_version", f"field 'v': contract version must be 1, got {show(data['v'])}")
    items = data.get("readings")
    if items is None:
        raise ContractError("missing_field", "field 'readings' is required in a batch", "readings")
    if type(items) is not list:
        raise ContractError("wrong_type", f"field 'readings': expected a list, got {json_type_name(items)}")
    if not 1 <= len(items) <= MAX_BATCH_READINGS:
        raise ContractError(
            "out_of_range", f"field 'readings': 1 to {MAX_BATCH_READINGS} readings, got {len(items)}"
        )
    return [item if type(item) is dict else _not_object(n, item) for n, item in enumerate(items)]


def _not_object(index: int, item: object) -> ContractError:
    return ContractError("not_object", f"readings[{index}] must be a JSON object, got {json_type_name(item)}")


def split_item(index: int, item: dict[str, Any]) -> BatchItem:
    """The item's device and kind, and its message fields (the item without device_id, taken from it);
    ContractError naming the item if they are bad."""
    device = item.get("device_id")
    kind = item.get("kind")
    where = f"readings[{index}]"
    if device is None or kind is None:
        missing = "device_id" if device is None else "kind"
        raise ContractError("missing_field", f"{where}: field '{missing}' is required in a batch", missing)
    if type(device) is not str:
        raise ContractError("wrong_type", f"{where}: field 'device_id': expected a string")
    try:
        device_id = parse_id(device, "device_id")
    except ContractError as exc:
        text = f"{where}: field 'device_id' {show(device)} is not a lowercase canonical UUID"
        raise ContractError("out_of_range", text, "device_id") from exc
    try:
        message_kind = parse_kind(kind)
    except ContractError as exc:
        raise ContractError(exc.reason, f"{where}: {exc.message}", "kind") from exc
    del item["device_id"]  # the rest is the device's own message (the item is the caller's to change)
    return BatchItem(index, device_id, message_kind, item)
