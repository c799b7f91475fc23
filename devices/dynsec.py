"""Mosquitto dynamic-security administration over MQTT ($CONTROL/dynamic-security/v1)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import orjson

from kernel.mqtt import AsyncMqttClient, Incoming, MqttConfig, MqttError

CONTROL_TOPIC = "$CONTROL/dynamic-security/v1"
RESPONSE_TOPIC = CONTROL_TOPIC + "/response"


class DynsecError(Exception):
    """The broker's dynamic-security plugin refused a command or did not answer."""

    def __init__(self, command: str, error: str) -> None:
        super().__init__(f"broker refused {command}: {error}")
        self.command = command
        self.error = error


@dataclass(frozen=True, slots=True)
class DeviceAcl:
    """What one device may do: publish under its own topic, subscribe to its own command topic."""

    username: str
    client_id: str
    publish_topic: str
    command_topic: str

    @property
    def role(self) -> str:
        """The role holding this device's ACLs."""
        return f"device-{self.username}"


class DynsecAdmin:
    """Sends dynamic-security commands and waits for each answer."""

    def __init__(self, client: AsyncMqttClient, *, timeout_s: float = 10.0) -> None:
        self._client = client
        self._timeout_s = timeout_s
        self._ids = itertools.count(1)
        self._waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Subscribe to the response topic and start matching answers to commands."""
        await self._client.subscribe(RESPONSE_TOPIC, qos=1)
        self._reader = asyncio.create_task(self._read(), name="dynsec-responses")

    async def close(self) -> None:
        """Stop reading answers."""
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
            self._reader = None

    async def command(self, name: str, **fields: Any) -> dict[str, Any]:
        """Run one command; raise DynsecError with the plugin's own words when it fails."""
        correlation = f"tc-{next(self._ids)}"
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[correlation] = fut
        body = {"commands": [{"command": name, "correlationData": correlation, **fields}]}
        try:
            await self._client.publish(CONTROL_TOPIC, orjson.dumps(body), qos=1)
            response = await asyncio.wait_for(fut, self._timeout_s)
        except (TimeoutError, MqttError) as exc:
            raise DynsecError(name, f"no answer from the broker ({exc or 'timeout'})") from exc
        finally:
            self._waiting.pop(correlation, None)
        if response.get("error"):
            raise DynsecError(name, str(response["error"]))
        return response

    async def _read(self) -> None:
        while True:
            message: Incoming = await self._client.messages.get()
            if message.topic != RESPONSE_TOPIC:
                continue
            try:
                responses = orjson.loads(message.payload).get("responses", [])
            except (orjson.JSONDecodeError, AttributeError):
                continue
            for response in responses:
                fut = self._waiting.get(str(response.get("correlationData")))
                if fut is not None and not fut.done():
                    fut.set_result(response)

    # --- the few operations the registry needs ---

    async def create_device(self, acl: DeviceAcl, password: str) -> None:
        """Create the device's role and client; both are removed again if either step fails."""
        await self.command(
            "createRole",
            rolename=acl.role,
            acls=[
                # A device never publishes to its own command topic; deny it before the general allow.
                {"acltype": "publishClientSend", "topic": acl.command_topic, "allow": False, "priority": 10},
                {"acltype": "publishClientSend", "topic": acl.publish_topic, "allow": True, "priority": 0},
                {"acltype": "subscribePattern", "topic": acl.command_topic, "allow": True, "priority": 0},
                {"acltype": "publishClientReceive", "topic": acl.command_topic, "allow": True, "priority": 0},
            ],
        )
        try:
            await self.command(
                "createClient",
                username=acl.username,
                clientid=acl.client_id,
                password=password,
                roles=[{"rolename": acl.role}],
            )
        except DynsecError:
            with contextlib.suppress(DynsecError):
                await self.command("deleteRole", rolename=acl.role)
            raise

    async def set_password(self, username: str, password: str) -> None:
        """Replace a client's password; the old one stops working at once."""
        await self.command("setClientPassword", username=username, password=password)

    async def disable(self, username: str) -> None:
        """Disable a client: it cannot connect, and a connected session is dropped."""
        await self.command("disableClient", username=username)

    async def enable(self, username: str) -> None:
        """Re-enable a disabled client."""
        await self.command("enableClient", username=username)

    async def delete_device(self, acl: DeviceAcl) -> None:
        """Remove the device's client and role; missing ones are not an error."""
        for name, fields in (
            ("deleteClient", {"username": acl.username}),
            ("deleteRole", {"rolename": acl.role}),
        ):
            try:
                await self.command(name, **fields)
            except DynsecError as exc:
                if "not found" not in exc.error.lower():
                    raise

    async def get_client(self, username: str) -> dict[str, Any] | None:
        """The client's record, or None when the broker has no such client."""
        try:
            response = await self.command("getClient", username=username)
        except DynsecError as exc:
            if "not found" in exc.error.lower():
                return None
            raise
        client = response.get("data", {}).get("client")
        return client if isinstance(client, dict) else None


@contextlib.asynccontextmanager
async def connect_admin(config: MqttConfig) -> AsyncIterator[DynsecAdmin]:
    """A connected DynsecAdmin for the duration of the block."""
    client = AsyncMqttClient(config, queue_size=1000)
    await client.connect()
    admin = DynsecAdmin(client)
    try:
        await admin.start()
        yield admin
    finally:
        await admin.close()
        await client.disconnect()
