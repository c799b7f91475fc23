"""Verification log SQL: storing a visit's verdict, and the log (visits with verdicts) as a scope sees it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

import asyncpg

from accounts.tenancy import Scope
from visits.visit_columns import ASSIGNED, VISIT_COLUMNS


async def upsert_verification(
    conn: asyncpg.Connection,
    *,
    visit_id: UUID,
    verdict: str,
    reasons: list[str],
    evidence: dict[str, Any],
    computed_at: datetime,
) -> None:
    """Store (or replace) a visit's verdict with its reasons and evidence."""
    await conn.execute(
        """
        INSERT INTO visit_verifications (visit_id, verdict, reasons, evidence, computed_at)
        VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (visit_id) DO UPDATE SET verdict = EXCLUDED.verdict, reasons = EXCLUDED.reasons,
            evidence = EXCLUDED.evidence, computed_at = EXCLUDED.computed_at
        """,
        visit_id,
        verdict,
        reasons,
        evidence,
        computed_at,
    )


async def select_log(
    conn: asyncpg.Connection,
    *,
    scope: Scope,
    organisation_id: UUID | None = None,
    since: date | None = None,
    until: date | None = None,
    home_id: UUID | None = None,
    carer_id: UUID | None = None,
    verdicts: list[str] | None = None,
    before: tuple[datetime, UUID] | None = None,
    limit: int = 100,
) -> list[asyncpg.Record]:
    """The verification log the scope sees: visits (not cancelled) with their verdict, newest first.

    since / until are the homes' local dates (inclusive / exclusive); a verdict filter leaves out visits
    not yet judged.
    """
    where, args = scope.where(org_column="v.organisation_id", home_column="v.home_id", param=1)
    conditions = [where, "v.status <> 'cancelled'"]
    for sql, value in (
        ("v.organisation_id = ${}", organisation_id),
        ("v.local_date >= ${}", since),
        ("v.local_date < ${}", until),
        ("v.home_id = ${}", home_id),
        (ASSIGNED, carer_id),
        ("vv.verdict = ANY(${}::text[])", verdicts),
    ):
        if value:
            args.append(value)
            conditions.append(sql.format(len(args)))
    if before is not None:
        args.extend(before)
        conditions.append(f"(v.planned_start, v.id) < (${len(args) - 1}, ${len(args)})")
    args.append(limit)
    rows: list[asyncpg.Record] = await conn.fetch(
        f"""
        SELECT {VISIT_COLUMNS}, h.name AS home_name, h.latitude, h.longitude,
               vv.verdict, COALESCE(vv.reasons, '[]') AS reasons, COALESCE(vv.evidence, '{{}}') AS evidence,
               vv.computed_at
        FROM visits v JOIN homes h ON h.id = v.home_id
        LEFT JOIN visit_verifications vv ON vv.visit_id = v.id
        WHERE {" AND ".join(conditions)}
        ORDER BY v.planned_start DESC, v.id DESC LIMIT ${len(args)}
        """,
        *args,
    )
    return rows
