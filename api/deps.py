"""Dependencies routes declare: resources owned by the lifespan, reached through Annotated aliases."""

from __future__ import annotations

from typing import Annotated

import asyncpg
from fastapi import Depends, Request

from api.resources import Resources
from devices.dynsec import DynsecAdmin
from telecare.settings import Settings


def get_resources(request: Request) -> Resources:
    """The lifespan's resources."""
    resources: Resources = request.app.state.resources
    return resources


def get_pool(request: Request) -> asyncpg.Pool:
    """The database pool."""
    return get_resources(request).pool


def get_settings(request: Request) -> Settings:
    """The settings the app was built with."""
    return get_resources(request).settings


def get_dynsec(request: Request) -> DynsecAdmin:
    """The broker's dynamic-security admin."""
    return get_resources(request).dynsec


ResourcesDep = Annotated[Resources, Depends(get_resources)]
PoolDep = Annotated[asyncpg.Pool, Depends(get_pool)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
DynsecDep = Annotated[DynsecAdmin, Depends(get_dynsec)]
