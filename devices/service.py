"""Provisioning: the registry and the broker kept in agreement, and device lookups for ingest."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from uuid import UUID

import asyncpg

from accounts.tenancy import Viewer
from devices import queries
from devices.dynsec import DeviceAcl, DynsecAdmin, DynsecError
from devices.errors import BrokerUnavailable, InvalidState, NotFound
from devices.hubs import HUB_TYPE, hub_command_topic, hub_publish_topic
from homes import queries as home_queries

log = logging.getLogger(__name__)


async def visible_device(conn: asyncpg.Connection, caller: Viewer, device_id: UUID) -> asyncpg.Record:
    """The device, with its home's organisation, if the caller's scope sees its home; NotFound otherwise."""
    row = await queries.scoped_device(conn, device_id=device_id, scope=caller.scope)
    if row is None:
        raise NotFound(f"device {device_id} not found")
    return row


@dataclass(frozen=True, slots=True)
class Provisioned:
    """A device's identity, returned once at registration or rotation: the password is not kept."""

    device_id: UUID
    home_id: UUID
    username: str
    password: str
    client_id: str
    publish_topic: str
    command_topic: str


def device_acl(*, topic_root: str, home_id: UUID, device_id: UUID, device_type: str = "") -> DeviceAcl:
    """The broker identity and ACL topics of a device; a home hub's cover every device of its home."""
    if device_type == HUB_TYPE:
        return DeviceAcl(
            username=str(device_id),
            client_id=str(device_id),
            publish_topic=hub_publish_topic(topic_root, home_id),
            command_topic=hub_command_topic(topic_root, home_id),
        )
    base = f"{topic_root}/v1/{home_id}/{device_id}"
    return DeviceAcl(
        username=str(device_id),
        client_id=str(device_id),
        publish_topic=f"{base}/+",
        command_topic=f"{base}/cmd",
    )


def new_password() -> str:
    """A random device password (32 url-safe characters)."""
    return secrets.token_urlsafe(24)


def _provisioned(acl: DeviceAcl, *, device_id: UUID, home_id: UUID, password: str) -> Provisioned:
    return Provisioned(
        device_id=device_id,
        home_id=home_id,
        username=acl.username,
        password=password,
        client_id=acl.client_id,
        publish_topic=acl.publish_topic,
        command_topic=acl.command_topic,
    )


async def register_device(
    pool: asyncpg.Pool,
    admin: DynsecAdmin,
    *,
    topic_root: str,
    home_id: UUID,
    device_type: str,
    model: str = "",
    room: str = "",
    firmware: str = "",
) -> Provisioned:
    """Register a device and create its broker identity; on any failure neither side keeps anything."""
    async with pool.acquire() as conn:
        if await home_queries.get_home(conn, home_id=home_id) is None:
            raise NotFound(f"home {home_id} not found")
        in_broker: DeviceAcl | None = None
        try:
            async with conn.transaction():
                device_id = await queries.insert_device(
                    conn, home_id=home_id, device_type=device_type, model=model, room=room, firmware=firmware
                )
                acl = device_acl(
                    topic_root=topic_root, home_id=home_id, device_id=device_id, device_type=device_type
                )
                await queries.insert_credential(conn, device_id=device_id, username=acl.username)
                password = new_password()
                try:
                    await admin.create_device(acl, password)
                except DynsecError as exc:
                    raise BrokerUnavailable(f"the broker did not create the device: {exc}") from exc
                in_broker = acl
        except BaseException:
            # The broker has it but the registry does not (the commit failed): take it back out.
            if in_broker is not None:
                await _forget_in_broker(admin, in_broker)
            raise
    log.info("registered device %s (%s) in home %s", device_id, device_type, home_id)
    return _provisioned(acl, device_id=device_id, home_id=home_id, password=password)


def _acl_of(row: asyncpg.Record, topic_root: str) -> DeviceAcl:
    return device_acl(
        topic_root=topic_root, home_id=row["home_id"], device_id=row["id"], device_type=row["type"]
    )


async def _forget_in_broker(admin: DynsecAdmin, acl: DeviceAcl) -> None:
    try:
        await admin.delete_device(acl)
    except DynsecError:
        log.exception("could not remove %s from the broker; run `telecare devices sync`", acl.username)


async def _active_device(conn: asyncpg.Connection, device_id: UUID) -> asyncpg.Record:
    row = await queries.get_device(conn, device_id=device_id)
    if row is None:
        raise NotFound(f"device {device_id} not found")
    return row


async def rotate_password(
    pool: asyncpg.Pool, admin: DynsecAdmin, *, topic_root: str, device_id: UUID
) -> Provisioned:
    """Give the device a new password (a revoked device is reinstated); the old one stops working at once."""
    async with pool.acquire() as conn:
        row = await _active_device(conn, device_id)
        if row["status"] == "decommissioned":
            raise InvalidState(f"device {device_id} is decommissioned; register a new device instead")
        acl = _acl_of(row, topic_root)
        password = new_password()
        async with conn.transaction():
            await queries.mark_rotated(conn, device_id=device_id)
            await queries.set_device_status(conn, device_id=device_id, status="active")
            try:
                if row["status"] == "revoked":
                    await admin.create_device(acl, password)
                else:
                    await admin.set_password(acl.username, password)
            except DynsecError as exc:
                raise BrokerUnavailable(f"the broker did not change the password: {exc}") from exc
    return _provisioned(acl, device_id=device_id, home_id=row["home_id"], password=password)


async def revoke(pool: asyncpg.Pool, admin: DynsecAdmin, *, topic_root: str, device_id: UUID) -> None:
    """Stop the device connecting (it can be given a new password later by re-registering)."""
    await _retire(pool, admin, topic_root=topic_root, device_id=device_id, status="revoked")


async def decommission(pool: asyncpg.Pool, admin: DynsecAdmin, *, topic_root: str, device_id: UUID) -> None:
    """Remove the device from service for good: its broker identity is deleted, its history kept."""
    await _retire(pool, admin, topic_root=topic_root, device_id=device_id, status="decommissioned")


async def _retire(
    pool: asyncpg.Pool, admin: DynsecAdmin, *, topic_root: str, device_id: UUID, status: str
) -> None:
    async with pool.acquire() as conn:
        row = await _active_device(conn, device_id)
        if row["status"] == "decommissioned":
            raise InvalidState(f"device {device_id} is already decommissioned")
        acl = _acl_of(row, topic_root)
        async with conn.transaction():
            await queries.set_device_status(conn, device_id=device_id, status=status)
            try:
                await admin.delete_device(acl)
            except DynsecError as exc:
                raise BrokerUnavailable(f"the broker did not remove the device: {exc}") from exc
    log.info("device %s is now %s", device_id, status)


@dataclass(frozen=True, slots=True)
class SyncReport:
    """What re-applying the registry to the broker changed."""

    created: tuple[str, ...]
    removed: tuple[str, ...]


async def sync_broker(pool: asyncpg.Pool, admin: DynsecAdmin, *, topic_root: str) -> SyncReport:
    """Re-apply the registry to the broker (after it lost state): active devices exist, others do not.

    A device re-created this way has a new, unknown password, so it also needs `rotate`; what matters
    first is that no retired device can connect and no active device is missing its ACL.
    """
    async with pool.acquire() as conn:
        rows = await queries.list_devices(conn)
    created, removed = [], []
    for row in rows:
        acl = _acl_of(row, topic_root)
        exists = await admin.get_client(acl.username) is not None
        if row["status"] == "active" and not exists:
            await admin.create_device(acl, new_password())
            created.append(acl.username)
        elif row["status"] != "active" and exists:
            await admin.delete_device(acl)
            removed.append(acl.username)
    return SyncReport(tuple(created), tuple(removed))
