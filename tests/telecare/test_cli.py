"""The `telecare` command line, run as a real process against the test database and broker."""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

import asyncpg
import orjson

from accounts.passwords import verify_password
from kernel.settings import Settings
from tests.support import telecare_env


async def _telecare(settings: Settings, *args: str, stdin: bytes = b"") -> tuple[int, Any, str]:
    env = telecare_env(settings)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "telecare.cli",
        *args,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate(stdin)
    body = orjson.loads(out) if out.strip().startswith((b"{", b"[")) else out.decode()
    return proc.returncode or 0, body, err.decode()


async def test_provisioning_from_the_command_line(settings: Settings) -> None:
    code, org, _ = await _telecare(settings, "org", "create", "Hillside Care")
    assert code == 0
    code, home, _ = await _telecare(settings, "home", "create", "--org", org["id"], "Flat 9")
    assert code == 0
    code, device, _ = await _telecare(
        settings, "device", "register", "--home", home["id"], "--type", "pendant", "--room", "bedroom"
    )
    assert code == 0 and device["password"] and device["home_id"] == home["id"]
    code, listed, _ = await _telecare(settings, "device", "list", "--home", home["id"])
    assert code == 0 and [d["device_id"] for d in listed] == [device["device_id"]]
    code, synced, _ = await _telecare(settings, "device", "sync")
    assert code == 0 and synced == {"created": [], "removed": []}
    code, _, _ = await _telecare(settings, "device", "revoke", device["device_id"])
    assert code == 0


async def test_bad_settings_and_unknown_ids_fail_with_a_clear_message(settings: Settings) -> None:
    code, _, err = await _telecare(settings, "device", "rotate", "00000000-0000-0000-0000-000000000000")
    assert code == 2 and "not found" in err
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "telecare.cli",
        "migrate",
        env={**os.environ, "TELECARE_API_PORT": "x"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err_bytes = await proc.communicate()
    assert proc.returncode == 2 and "TELECARE_API_PORT" in err_bytes.decode()


async def test_accounts_from_the_command_line(settings: Settings) -> None:
    code, admin, _ = await _telecare(
        settings,
        *("user", "create", "--email", "ops@example.org", "--role", "platform_admin", "--password-stdin"),
        stdin=b"a long enough password\n",
    )
    assert code == 0 and admin["role"] == "platform_admin"
    conn = await asyncpg.connect(settings.database_url)
    try:
        stored = await conn.fetchval("SELECT password_hash FROM users WHERE email = $1", "ops@example.org")
    finally:
        await conn.close()
    assert verify_password(stored, "a long enough password")
    assert not verify_password(stored, "another password")

    code, org, _ = await _telecare(settings, "org", "create", "Hillside Care")
    code, invited, _ = await _telecare(
        settings,
        "user",
        "create",
        "--email",
        "coord@hillside.example",
        "--role",
        "coordinator",
        "--org",
        org["id"],
    )
    assert code == 0 and invited["invitation_token"] and invited["user"]["organisation_id"] == org["id"]
    code, _, err = await _telecare(settings, "user", "create", "--email", "x@example.org", "--role", "carer")
    assert code == 2 and "organisation" in err
