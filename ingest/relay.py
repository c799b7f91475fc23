"""A home hub's batch (contract 1.1, devices/hubs.py) turned into the readings it carries.

The hub must be an active hub of the topic's home (else the whole message is dead-lettered); each item
is judged on its own: its fields by the v1 models, its device by the registry, which must have it
active in the hub's home. Refused items become dead letters of their own (the item's JSON, with the
batch's topic and the item's index in the reason); the rest are stored. The message is acknowledged
once all of it is committed, like any other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

import orjson

from devices.contract import PRIORITY_KINDS, ContractError
from devices.hubs import BatchAddress, BatchItem, parse_batch, parse_batch_topic, split_item
from ingest.checks import Checked, check_data
from ingest.directory import Route
from ingest.writer import ReadingRow, Rejected, Source
from kernel.mqtt import Incoming

FUTURE_TOLERANCE = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class Opened:
    """A batch whose envelope is sound: its hub, its items split, and the items already refused."""

    address: BatchAddress
    items: list[BatchItem]
    rejected: list[Rejected]

    def device_ids(self) -> list[UUID]:
        """The devices whose routes judging it needs: the hub and every item's device."""
        return [self.address.hub_id, *(item.device_id for item in self.items)]


@dataclass(frozen=True, slots=True)
class Relayed:
    """A hub's batch: the readings to store, its refused items, and whether an alarm is among them."""

    readings: list[ReadingRow]
    rejected: list[Rejected]
    priority: bool


def refusal(device_id: UUID, home_id: UUID, route: Route | None, *, via: str = "") -> Rejected | None:
    """Why a message for this device and home is refused (unknown, another home's, inactive), or None."""
    if route is None:
        return Rejected("unknown_device", f"{via}device {device_id} is not registered")
    if route[0] != home_id:
        return Rejected("home_mismatch", f"{via}device {device_id} belongs to another home")
    if route[1] != "active":
        return Rejected("device_inactive", f"{via}device {device_id} is {route[1]}")
    return None


def reading(
    message: Incoming, home_id: UUID, device_id: UUID, kind: str, checked: Checked, source: Source
) -> ReadingRow:
    """The row a checked message (or batch item) becomes."""
    return ReadingRow(
        time=checked.ts,
        received_at=message.received_at,
        home_id=home_id,
        device_id=device_id,
        seq=checked.seq,
        kind=kind,
        value=checked.value,
        payload=checked.data,
        clock_suspect=checked.ts > message.received_at + FUTURE_TOLERANCE,
        source=source,
    )


def open_batch(message: Incoming, *, root: str) -> Opened | Rejected:
    """A batch's envelope read and its items split, or why the whole message is refused."""
    try:
        address = parse_batch_topic(message.topic, root=root)
        raw_items = parse_batch(message.payload)
    except ContractError as exc:
        return Rejected(exc.reason, str(exc))
    items: list[BatchItem] = []
    rejected: list[Rejected] = []
    for index, raw in enumerate(raw_items):
        try:
            if isinstance(raw, ContractError):
                raise raw
            items.append(split_item(index, raw))
        except ContractError as exc:
            rejected.append(Rejected(exc.reason, str(exc), _raw(raw)))
    return Opened(address, items, rejected)


def judge(message: Incoming, opened: Opened, route_of: Callable[[UUID], Route | None]) -> Relayed | Rejected:
    """The readings an opened batch carries, given the registry's routes (the caller has fetched them)."""
    address = opened.address
    hub = route_of(address.hub_id)
    refused = refusal(address.hub_id, address.home_id, hub, via="hub: ")
    if refused is not None:
        return refused
    if hub is not None and not hub[2]:
        return Rejected("not_a_hub", f"device {address.hub_id} is not a home hub; it may not send batches")
    rejected = list(opened.rejected)
    readings: list[ReadingRow] = []
    for item in opened.items:
        outcome = _item(message, address, item, route_of(item.device_id))
        if isinstance(outcome, Rejected):
            rejected.append(outcome)
        else:
            readings.append(outcome)
    priority = any(r.kind in PRIORITY_KINDS for r in readings)
    return Relayed(readings, rejected, priority)


def _item(
    message: Incoming, address: BatchAddress, item: BatchItem, route: Route | None
) -> ReadingRow | Rejected:
    where = f"readings[{item.index}]: "
    try:
        checked = check_data(item.kind, item.data)
    except ContractError as exc:
        return Rejected(exc.reason, where + str(exc), item.raw)
    refused = refusal(item.device_id, address.home_id, route, via=where)
    if refused is not None:
        if refused.reason == "home_mismatch":
            detail = f"{where}device {item.device_id} is not registered to the home of hub {address.hub_id}"
            return Rejected("home_mismatch", detail, item.raw)
        return Rejected(refused.reason, refused.detail, item.raw)
    # The item's own message, for a dead letter should its seq turn out to be reused.
    source = ItemSource(message.topic, message.received_at, item)
    return reading(message, address.home_id, item.device_id, item.kind.value, checked, source)


@dataclass(frozen=True, slots=True)
class ItemSource:
    """One item of a batch as the source of a reading (its JSON made only if a dead letter needs it)."""

    topic: str
    received_at: datetime
    item: BatchItem

    @property
    def payload(self) -> bytes:
        """The item's JSON."""
        return self.item.raw


def _raw(item: object) -> bytes:
    return orjson.dumps(item)
