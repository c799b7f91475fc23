"""`telecare roster propose|compare`: the coordinators' rostering on the stored visits, as one coordinator.

The command acts as the coordinator named by --as (their role and organisation decide what they may do,
exactly as through the API), plans in this process with the same job runner the API uses, and records the
proposal and the acceptance in the audit log with the command line as their origin.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from uuid import UUID

import asyncpg
import orjson

from accounts import queries as account_queries
from accounts.service import Origin
from accounts.service import audit as record_audit
from accounts.tenancy import Principal, Role, Scope, manages, scope_without_lookup
from kernel.connect import require_database_url
from kernel.db import create_pool
from kernel.settings import Settings
from rostering import queries, service
from rostering.errors import InvalidRoster, RosterNotFound
from rostering.jobs import RosterJobs, RosterRequest
from rostering.model import Weights
from rostering.schemas import RosterIn
from rostering.setup import travel_from
from rostering.visits_source import VisitsSource

ORIGIN = Origin(client_addr=None, user_agent="telecare roster")


@dataclass(frozen=True, slots=True)
class CliViewer:
    """A coordinator acting from the command line: the same checks as the API's caller."""

    principal: Principal
    scope: Scope

    def require_manager(self, organisation_id: UUID) -> None:
        """NotFound unless they administer the organisation (as the API answers another tenant's)."""
        if not manages(self.principal, organisation_id):
            raise RosterNotFound(f"organisation {organisation_id} not found")


async def _viewer(conn: asyncpg.Connection, email: str) -> CliViewer:
    row = await account_queries.get_login(conn, email=email)
    if row is None or row["role"] not in (Role.COORDINATOR.value, Role.PLATFORM_ADMIN.value):
        raise InvalidRoster(f"{email} is not a coordinator")
    principal = Principal("user", row["id"], row["name"], Role(row["role"]), row["organisation_id"])
    scope = scope_without_lookup(principal)
    assert scope is not None
    return CliViewer(principal, scope)


async def run_stored(args: argparse.Namespace, settings: Settings) -> str:
    """Propose (and maybe accept) or compare, on the configured database; the text to print."""
    pool = await create_pool(require_database_url(settings), min_size=1, max_size=4)
    try:
        async with pool.acquire() as conn:
            viewer = await _viewer(conn, args.as_email)
        if args.action == "compare":
            async with pool.acquire() as conn:
                result = await service.compare(conn, viewer, a=args.a, b=args.b)
            return orjson.dumps(result, option=orjson.OPT_INDENT_2, default=str).decode()
        return await _propose(pool, viewer, args, settings)
    finally:
        await pool.close()


async def _propose(
    pool: asyncpg.Pool, viewer: CliViewer, args: argparse.Namespace, settings: Settings
) -> str:
    body = RosterIn(start=args.start, end=args.end, time_limit_s=args.time_limit)
    service.check_range(body)
    viewer.require_manager(args.org)
    async with pool.acquire() as conn, conn.transaction():
        roster_id = await queries.insert_roster(
            conn,
            organisation_id=args.org,
            start=body.start,
            end=body.end,
            weights=body.weights.model_dump(),
            created_by=viewer.principal.id,
        )
        await record_audit(
            conn, viewer.principal, ORIGIN, action="roster.propose", target_type="roster",
            target_id=roster_id, organisation_id=args.org, detail=body.model_dump(mode="json"),
        )  # fmt: skip
    source = VisitsSource(window_s=settings.rostering_window_minutes * 60)
    jobs = RosterJobs(pool, source, travel_from(settings))
    jobs.start(RosterRequest(roster_id, args.org, body.start, body.end, Weights(), args.time_limit))
    await jobs.wait()
    lines = [f"roster {roster_id}"]
    async with pool.acquire() as conn:
        row = await service.visible_roster(conn, viewer, roster_id)
        lines.append(f"status: {row['status']} {row['message'] or ''}".rstrip())
        figures = orjson.loads(row["figures"]) if isinstance(row["figures"], str) else (row["figures"] or {})
        lines.extend(f"  {key}: {value}" for key, value in figures.items())
        uncovered = await queries.roster_uncovered(conn, roster_id=roster_id)
    lines.append(f"uncovered ({len(uncovered)}):")
    lines.extend(f"  {u['visit_id']}: {u['reason']}" for u in uncovered)
    if args.accept and row["status"] == "ready":
        async with pool.acquire() as conn, conn.transaction():
            made = await service.accept(conn, viewer, source, roster_id=roster_id)
            await record_audit(
                conn, viewer.principal, ORIGIN, action="roster.accept", target_type="roster",
                target_id=roster_id, organisation_id=args.org, detail={"assigned": made},
            )  # fmt: skip
        lines.append(f"accepted: {made} visit(s) assigned")
    return "\n".join(lines)
