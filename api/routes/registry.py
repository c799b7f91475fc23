"""Organisations, homes, residents and devices: the registry and device provisioning."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import asyncpg
from fastapi import APIRouter, HTTPException, Query

from api.deps import DynsecDep, PoolDep, SettingsDep
from api.security import AdminDep
from devices import queries
from devices import service as devices
from devices.schemas import (
    CredentialsOut,
    DeviceHealthOut,
    DeviceIn,
    DeviceOut,
    HomeIn,
    HomeOut,
    OrganisationIn,
    OrganisationOut,
    ResidentIn,
)

router = APIRouter(prefix="/v1", tags=["registry"], dependencies=[AdminDep])


async def _require_home(conn: asyncpg.Connection, home_id: UUID) -> None:
    if await queries.get_home(conn, home_id=home_id) is None:
        raise HTTPException(404, f"home {home_id} not found")


async def _require_organisation(conn: asyncpg.Connection, organisation_id: UUID) -> None:
    if await conn.fetchval("SELECT 1 FROM organisations WHERE id = $1", organisation_id) is None:
        raise HTTPException(404, f"organisation {organisation_id} not found")


@router.post("/organisations", response_model=OrganisationOut, status_code=201)
async def create_organisation(body: OrganisationIn, pool: PoolDep) -> OrganisationOut:
    """Create a care-provider organisation."""
    async with pool.acquire() as conn:
        org_id = await queries.insert_organisation(conn, name=body.name)
        row = await conn.fetchrow("SELECT * FROM organisations WHERE id = $1", org_id)
    return OrganisationOut.model_validate(dict(row))


@router.post("/organisations/{organisation_id}/homes", response_model=HomeOut, status_code=201)
async def create_home(organisation_id: UUID, body: HomeIn, pool: PoolDep) -> HomeOut:
    """Create a home served by an organisation."""
    async with pool.acquire() as conn:
        await _require_organisation(conn, organisation_id)
        home_id = await queries.insert_home(conn, organisation_id=organisation_id, **body.model_dump())
        row = await queries.get_home(conn, home_id=home_id)
    assert row is not None
    return HomeOut.model_validate(dict(row))


@router.get("/homes/{home_id}", response_model=HomeOut)
async def get_home(home_id: UUID, pool: PoolDep) -> HomeOut:
    """One home."""
    async with pool.acquire() as conn:
        row = await queries.get_home(conn, home_id=home_id)
    if row is None:
        raise HTTPException(404, f"home {home_id} not found")
    return HomeOut.model_validate(dict(row))


@router.post("/homes/{home_id}/residents", status_code=201)
async def add_resident(home_id: UUID, body: ResidentIn, pool: PoolDep) -> dict[str, UUID]:
    """Add a resident to a home."""
    async with pool.acquire() as conn:
        await _require_home(conn, home_id)
        return {"id": await queries.insert_resident(conn, home_id=home_id, display_name=body.display_name)}


@router.post("/homes/{home_id}/devices", response_model=CredentialsOut, status_code=201)
async def register_device(
    home_id: UUID, body: DeviceIn, pool: PoolDep, admin: DynsecDep, settings: SettingsDep
) -> CredentialsOut:
    """Register a device and create its broker identity; the password is returned this once."""
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
    return CredentialsOut.model_validate(provisioned, from_attributes=True)


@router.get("/homes/{home_id}/devices", response_model=list[DeviceHealthOut])
async def home_devices(home_id: UUID, pool: PoolDep) -> list[DeviceHealthOut]:
    """A home's devices with their health."""
    async with pool.acquire() as conn:
        await _require_home(conn, home_id)
        rows = await queries.select_health(conn, home_id=home_id)
    return [DeviceHealthOut.model_validate(dict(r)) for r in rows]


@router.get("/organisations/{organisation_id}/devices", response_model=list[DeviceHealthOut])
async def organisation_devices(organisation_id: UUID, pool: PoolDep) -> list[DeviceHealthOut]:
    """Every device of an organisation's homes, with health."""
    async with pool.acquire() as conn:
        await _require_organisation(conn, organisation_id)
        rows = await queries.select_health(conn, organisation_id=organisation_id)
    return [DeviceHealthOut.model_validate(dict(r)) for r in rows]


@router.get("/devices/{device_id}", response_model=DeviceOut)
async def get_device(device_id: UUID, pool: PoolDep) -> DeviceOut:
    """One device."""
    async with pool.acquire() as conn:
        row = await queries.get_device(conn, device_id=device_id)
    if row is None:
        raise HTTPException(404, f"device {device_id} not found")
    return DeviceOut.model_validate(dict(row))


@router.post("/devices/{device_id}/rotate", response_model=CredentialsOut)
async def rotate(device_id: UUID, pool: PoolDep, admin: DynsecDep, settings: SettingsDep) -> CredentialsOut:
    """Give the device a new password (reinstating a revoked device); the old one stops working."""
    provisioned = await devices.rotate_password(
        pool, admin, topic_root=settings.mqtt_topic_root, device_id=device_id
    )
    return CredentialsOut.model_validate(provisioned, from_attributes=True)


@router.post("/devices/{device_id}/revoke", status_code=204)
async def revoke(device_id: UUID, pool: PoolDep, admin: DynsecDep, settings: SettingsDep) -> None:
    """Revoke the device's credentials: it can no longer connect."""
    await devices.revoke(pool, admin, topic_root=settings.mqtt_topic_root, device_id=device_id)


@router.post("/devices/{device_id}/decommission", status_code=204)
async def decommission(device_id: UUID, pool: PoolDep, admin: DynsecDep, settings: SettingsDep) -> None:
    """Take the device out of service for good; its history is kept."""
    await devices.decommission(pool, admin, topic_root=settings.mqtt_topic_root, device_id=device_id)


@router.get("/homes", response_model=list[HomeOut])
async def list_homes(pool: PoolDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[HomeOut]:
    """Homes, oldest first (paging and tenancy come with accounts)."""
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT * FROM homes ORDER BY created_at, id LIMIT $1", max(1, min(limit, 1000))
        )
    return [HomeOut.model_validate(dict(r)) for r in rows]
