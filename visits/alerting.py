"""Visit alerts through alerts/: one condition per visit and rule (its dedupe key), raised once, cleared when
the condition ends. A condition whose alert a person already resolved is not raised again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from alerts import service as alerts
from alerts.service import Actor, Resolution, Severity, Signal

SOURCE = "visits"
RULES = Actor("system", name="visit rules")
SEVERITY: dict[str, Severity] = {
    "visit_late": "medium",
    "visit_missed": "high",
    "visit_short": "medium",
    "visit_no_checkout": "medium",
    "visit_wrong_home": "high",
    "visit_outside_geofence": "medium",
    "carer_two_homes": "high",
    "visit_unverified": "high",
}


def dedupe_key(kind: str, subject: UUID) -> str:
    """The condition's key: the rule and the visit (or event) it is about."""
    return f"{kind}:{subject}"


async def raised_before(conn: asyncpg.Connection, *, home_id: UUID, keys: list[str]) -> set[str]:
    """Which of these conditions have had an alert at this home, open or resolved."""
    rows = await conn.fetch(
        "SELECT DISTINCT dedupe_key FROM alerts WHERE home_id = $1 AND dedupe_key = ANY($2::text[])",
        home_id,
        keys,
    )
    return {r["dedupe_key"] for r in rows}


async def raise_once(
    conn: asyncpg.Connection,
    *,
    home_id: UUID,
    kind: str,
    subject: UUID,
    at: datetime,
    title: str,
    explanation: str,
    evidence: list[dict[str, Any]],
) -> bool:
    """Raise the condition's alert unless it has been raised before; whether it was raised now."""
    key = dedupe_key(kind, subject)
    if await raised_before(conn, home_id=home_id, keys=[key]):
        return False
    signal = Signal(
        home_id=home_id,
        kind=kind,
        severity=SEVERITY[kind],
        dedupe_key=key,
        triggered_at=at,
        title=title,
        explanation=explanation,
        evidence=evidence,
        source=SOURCE,
    )
    await alerts.raise_or_update(conn, signal, actor=RULES)
    return True


async def clear(
    conn: asyncpg.Connection,
    *,
    home_id: UUID,
    kind: str,
    subject: UUID,
    at: datetime,
    note: str,
    resolution: Resolution = "cleared",
) -> None:
    """Resolve the condition's open alert (if any) because the condition ended ("cleared"), or because
    an event that arrived late showed it never held ("cancelled", see withdrawn)."""
    await alerts.clear(
        conn,
        home_id=home_id,
        dedupe_key=dedupe_key(kind, subject),
        at=at,
        note=note,
        actor=RULES,
        resolution=resolution,
    )


def withdrawn(what: str, at: str, arrived: str, never: str) -> tuple[str, Resolution]:
    """The note and resolution of an alert the facts that arrived later showed to be unfounded: the
    event happened in time but reached the backend late (an offline phone, a reader's link down)."""
    note = f"withdrawn: the {what} made at {at} reached the system at {arrived} (sent late); {never}"
    return note, "cancelled"
