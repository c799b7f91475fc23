"""`telecare roster` as a real process: the demo provider planned, and a stored organisation's roster
proposed and accepted as one of its coordinators (another organisation's coordinator finds nothing)."""

from __future__ import annotations

import asyncio
import sys

from kernel.settings import Settings
from tests.api.conftest import Api, api
from tests.rostering.test_api import _setup
from tests.support import telecare_env

__all__ = ["api"]


async def _roster(settings: Settings, *args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "telecare.cli",
        "roster",
        *args,
        env=telecare_env(settings),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    return proc.returncode or 0, out.decode(), err.decode()


async def test_the_demo_provider_is_planned_and_compared(settings: Settings) -> None:
    code, out, err = await _roster(
        settings, "demo", "--carers", "4", "--visits-per-day", "20", "--time-limit", "1", "--rounds"
    )
    assert code == 0, err
    assert "demo provider: 4 carers" in out
    assert "rounds:" in out and "uncovered (" in out
    assert "compared:" in out and "provider_rota" in out and "travel (h)" in out


async def test_a_roster_is_proposed_and_accepted_from_the_command_line(api: Api, settings: Settings) -> None:
    await _setup(api)
    a = api.world.a
    day = ("--start", "2026-11-02", "--end", "2026-11-02", "--time-limit", "1")
    code, out, err = await _roster(
        settings, "propose", "--org", str(a.org), *day, "--as", "coordinator@birch.example"
    )
    assert code == 2 and "not found" in err, (out, err)
    code, out, err = await _roster(
        settings, "propose", "--org", str(a.org), *day, "--as", "coordinator@alder.example", "--accept"
    )
    assert code == 0, err
    assert "status: ready" in out and "covered: 2" in out and "uncovered (0):" in out
    assert "accepted: 2 visit(s) assigned" in out
    async with api.pool.acquire() as conn:
        rows = await conn.fetch("SELECT action FROM audit_log WHERE action LIKE 'roster.%'")
    assert {r["action"] for r in rows} >= {"roster.propose", "roster.accept"}
