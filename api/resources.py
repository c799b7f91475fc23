"""What the API process holds open for its lifetime."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from accounts.service import AuthConfig
from api.security import Gatekeeper
from api.stream import Broadcaster
from devices.dynsec import DynsecAdmin
from kernel.mqtt import AsyncMqttClient
from kernel.settings import Settings
from kernel.storage import StorageInfo


@dataclass(frozen=True, slots=True)
class Resources:
    """The pool, the broker connection, the alert stream and what was learned at start."""

    settings: Settings
    pool: asyncpg.Pool
    mqtt: AsyncMqttClient
    dynsec: DynsecAdmin
    storage: StorageInfo
    auth: AuthConfig
    gate: Gatekeeper
    streams: Broadcaster
