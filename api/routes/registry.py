"""Devices and their health, and device provisioning (coordinators of the home's organisation)."""

from __future__ import annotations

from uuid import UUID

import asyncpg
from fastapi import APIRouter

from accounts.tenancy import Role
from api.deps import CallerDep, DynsecDep, PoolDep, SettingsDep
from api.errors import problems
from api.security import Caller
from devices import queries
from devices import service as devices
from devices.schemas import CredentialsOut, DeviceHealthOut, DeviceIn, DeviceOut
from devices.service import visible_device
from homes.service import managed_home, require_organisation, visible_home

router = APIRouter(prefix="/v1", tags=["devices"], responses=problems(401, 403, 404, 422))


async def _managed_device(pool: asyncpg.Pool, caller: Caller, device_id: UUID) -> asyncpg.Record:
    async with pool.acquire() as conn:
        row = await visible_device(conn, caller, device_id)
    caller.require_manager(row["organisation_id"])
    return row


async def _audit(pool: asyncpg.Pool, caller: Caller, action: str, device: asyncpg.Record) -> None:
    async with pool.acquire() as conn:
        await caller.audit(
            conn,
            action=action,
            target_type="device",
            target_id=device["id"],
            organisation_id=device["organisation_id"],
            detail={"home_id": str(device["home_id"])},
        )


@router.post(
    "/homes/{home_id}/devices", response_model=CredentialsOut, status_code=201, responses=problems(503)
)
async def register_device(
    home_id: UUID, body: DeviceIn, pool: PoolDep, admin: DynsecDep, settings: SettingsDep, caller: CallerDep
) -> CredentialsOut:
    """Register a device and create its broker identity; the password is returned this once."""
    async with pool.acquire() as conn:
        home = await managed_home(conn, caller, home_id)
    provisioned = await devices.register_device(
        pool,
        admin,
        topic_root=settings.mqtt_topic_root,
        home_id=home_id,
        device_type=body.type.value,
        model=body.model,
        room=body.room,
        firmware=body.firmware,
    )
    async with pool.acquire() as conn:
        await caller.audit(
            conn,
            action="device.register",
            target_type="device",
            target_id=provisioned.device_id,
            organisation_id=home["organisation_id"],
            detail={"home_id": str(home_id), "type": body.type.value},
        )
    return CredentialsOut.model_validate(provisioned, from_attributes=True)


@router.get("/homes/{home_id}/devices", response_model=list[DeviceHealthOut])
async def home_devices(home_id: UUID, pool: PoolDep, caller: CallerDep) -> list[DeviceHealthOut]:
    """A home's devices with their health."""
    async with pool.acquire() as conn:
        await visible_home(conn, caller, home_id)
        rows = await queries.select_health(conn, home_id=home_id)
    return [DeviceHealthOut.model_validate(dict(r)) for r in rows]


@router.get("/organisations/{organisation_id}/devices", response_model=list[DeviceHealthOut])
async def organisation_devices(
    organisation_id: UUID, pool: PoolDep, caller: CallerDep
) -> list[DeviceHealthOut]:
    """Every device of an organisation's homes, with health (coordinators and integrations)."""
    if caller.principal.role is Role.INTEGRATION:
        caller.require_organisation(organisation_id)
    else:
        caller.require_manager(organisation_id)
    async with pool.acquire() as conn:
        await require_organisation(conn, organisation_id)
        rows = await queries.select_health(conn, organisation_id=organisation_id)
    return [DeviceHealthOut.model_validate(dict(r)) for r in rows]


@router.get("/devices/{device_id}", response_model=DeviceOut)
async def get_device(device_id: UUID, pool: PoolDep, caller: CallerDep) -> DeviceOut:
    """One device."""
    async with pool.acquire() as conn:
        await visible_device(conn, caller, device_id)
        row = await queries.get_device(conn, device_id=device_id)
    assert row is not None
    return DeviceOut.model_validate(dict(row))


@router.post("/devices/{device_id}/rotate", response_model=CredentialsOut, responses=problems(409, 503))
async def rotate(
    device_id: UUID, pool: PoolDep, admin: DynsecDep, settings: SettingsDep, caller: CallerDep
) -> CredentialsOut:
    """Give the device a new password (reinstating a revoked device); the old one stops working."""
    device = await _managed_device(pool, caller, device_id)
    provisioned = await devices.rotate_password(
        pool, admin, topic_root=settings.mqtt_topic_root, device_id=device_id
    )
    await _audit(pool, caller, "device.rotate", device)
    return CredentialsOut.model_validate(provisioned, from_attributes=True)


@router.post("/devices/{device_id}/revoke", status_code=204, responses=problems(409, 503))
async def revoke(
    device_id: UUID, pool: PoolDep, admin: DynsecDep, settings: SettingsDep, caller: CallerDep
) -> None:
    """Revoke the device's credentials: it can no longer connect."""
    device = await _managed_device(pool, caller, device_id)
    await devices.revoke(pool, admin, topic_root=settings.mqtt_topic_root, device_id=device_id)
    await _audit(pool, caller, "device.revoke", device)


@router.post("/devices/{device_id}/decommission", status_code=204, responses=problems(409, 503))
async def decommission(
    device_id: UUID, pool: PoolDep, admin: DynsecDep, settings: SettingsDep, caller: CallerDep
) -> None:
    """Take the device out of service for good; its history is kept."""
    device = await _managed_device(pool, caller, device_id)
    await devices.decommission(pool, admin, topic_root=settings.mqtt_topic_root, device_id=device_id)
    await _audit(pool, caller, "device.decommission", device)
