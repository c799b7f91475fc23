"""Alert SQL: upsert of a continuing condition, state changes, history and the change notification."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from accounts.tenancy import Scope

# Listeners (the live stream, in any process) hear of every change when its transaction commits.
CHANNEL = "telecare_alerts"

_SEVERITY_RANK = "array_position(ARRAY['low','medium','high','critical'], {})"


async def upsert_open(
    conn: asyncpg.Connection,
    *,
    home_id: UUID,
    kind: str,
    severity: str,
    dedupe_key: str,
    triggered_at: datetime,
    title: str,
    explanation: str,
    evidence: list[dict[str, Any]],
    device_id: UUID | None,
    room: str | None,
    source: str,
) -> asyncpg.Record:
    """Open an alert for the condition, or fold this sign into the unresolved one; returns the row.

    The row carries `inserted` and `previous_severity` so the caller can record what happened.
    Severity only ever rises while an alert is open.
    """
    keep = _SEVERITY_RANK.format("alerts.severity")
    new = _SEVERITY_RANK.format("EXCLUDED.severity")
    return await conn.fetchrow(
        f"""
        WITH prior AS (
            SELECT severity FROM alerts WHERE home_id = $1 AND dedupe_key = $4 AND status <> 'resolved'
        )
        INSERT INTO alerts AS alerts (home_id, organisation_id, kind, severity, dedupe_key, triggered_at,
                            last_seen_at, title, explanation, evidence, device_id, room, source)
        SELECT $1, h.organisation_id, $2, $3, $4, $5, $5, $6, $7, $8, $9, $10, $11
        FROM homes h WHERE h.id = $1
        ON CONFLICT (home_id, dedupe_key) WHERE status <> 'resolved' DO UPDATE SET
            severity = CASE WHEN {new} > {keep} THEN EXCLUDED.severity ELSE alerts.severity END,
            last_seen_at = GREATEST(alerts.last_seen_at, EXCLUDED.last_seen_at),
            occurrences = alerts.occurrences + 1,
            title = EXCLUDED.title,
            explanation = EXCLUDED.explanation,
            evidence = EXCLUDED.evidence,
            version = alerts.version + 1,
            updated_at = now()
        RETURNING alerts.*, (xmax = 0) AS inserted, (SELECT severity FROM prior) AS previous_severity
        """,
        home_id,
        kind,
        severity,
        dedupe_key,
        triggered_at,
        title,
        explanation,
        evidence,
        device_id,
        room,
        source,
    )


async def get(conn: asyncpg.Connection, *, alert_id: UUID, for_update: bool = False) -> asyncpg.Record | None:
    """One alert, or None; locked for the rest of the transaction when for_update."""
    lock = " FOR UPDATE" if for_update else ""
    return await conn.fetchrow(f"SELECT * FROM alerts WHERE id = $1{lock}", alert_id)


async def get_unresolved(
    conn: asyncpg.Connection, *, home_id: UUID, dedupe_key: str
) -> asyncpg.Record | None:
    """The unresolved alert of a condition, locked, or None."""
    return await conn.fetchrow(
        "SELECT * FROM alerts WHERE home_id = $1 AND dedupe_key = $2 AND status <> 'resolved' FOR UPDATE",
        home_id,
        dedupe_key,
    )


async def set_acknowledged(conn: asyncpg.Connection, *, alert_id: UUID, by: UUID | None) -> asyncpg.Record:
    """Mark an alert acknowledged now; returns the row."""
    return await conn.fetchrow(
        """
        UPDATE alerts SET status = 'acknowledged', acknowledged_at = now(), acknowledged_by = $2,
                          version = version + 1, updated_at = now()
        WHERE id = $1 RETURNING *
        """,
        alert_id,
        by,
    )


async def set_resolved(
    conn: asyncpg.Connection,
    *,
    alert_id: UUID,
    at: datetime,
    by: UUID | None,
    resolution: str,
    note: str | None,
) -> asyncpg.Record:
    """Mark an alert resolved; returns the row."""
    return await conn.fetchrow(
        """
        UPDATE alerts SET status = 'resolved', resolved_at = $2, resolved_by = $3, resolution = $4,
                          resolution_note = $5, version = version + 1, updated_at = now()
        WHERE id = $1 RETURNING *
        """,
        alert_id,
        at,
        by,
        resolution,
        note,
    )


async def set_assigned(conn: asyncpg.Connection, *, alert_id: UUID, assignee: UUID | None) -> asyncpg.Record:
    """Assign an alert to a person (or nobody); returns the row."""
    return await conn.fetchrow(
        """
        UPDATE alerts SET assigned_to = $2, version = version + 1, updated_at = now()
        WHERE id = $1 RETURNING *
        """,
        alert_id,
        assignee,
    )


async def insert_event(
    conn: asyncpg.Connection,
    *,
    alert_id: UUID,
    action: str,
    actor_kind: str,
    actor_id: UUID | None,
    actor_name: str,
    detail: dict[str, Any],
) -> None:
    """Append to an alert's history."""
    await conn.execute(
        """
        INSERT INTO alert_events (alert_id, action, actor_kind, actor_id, actor_name, detail)
        VALUES ($1, $2, $3, $4, $5, $6)
        """,
        alert_id,
        action,
        actor_kind,
        actor_id,
        actor_name,
        detail,
    )


async def history(conn: asyncpg.Connection, *, alert_id: UUID) -> list[asyncpg.Record]:
    """An alert's history, oldest first."""
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT * FROM alert_events WHERE alert_id = $1 ORDER BY id", alert_id
    )
    return rows


async def notify(conn: asyncpg.Connection, *, payload: str) -> None:
    """Tell listeners of a change; delivered when the transaction commits, dropped if it rolls back."""
    await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, payload)


_LIST_COLUMNS = """id, home_id, organisation_id, kind, severity, status, dedupe_key, device_id, room, title,
    explanation, evidence, triggered_at, last_seen_at, occurrences, assigned_to, acknowledged_at,
    acknowledged_by, resolved_at, resolved_by, resolution, resolution_note, source, version, created_at,
    updated_at"""


# A family member's alerts: the kinds for everyone (the provider's working alerts about its carers, such
# as a late visit, are for its coordinators; a missed visit is for the family too).
def for_family(kind_column: str = "kind") -> str:
    """The condition that keeps a family member to the kinds for everyone (the column named as given)."""
    return f"{kind_column} IN (SELECT k.kind FROM alert_kinds k WHERE k.audience = 'everyone')"


FOR_FAMILY = for_family()


async def for_everyone(conn: asyncpg.Connection, *, kind: str) -> bool:
    """Whether alerts of this kind are for the family too (audience everyone), not the provider's alone."""
    audience = await conn.fetchval("SELECT audience FROM alert_kinds WHERE kind = $1", kind)
    return bool(audience == "everyone")


async def select_page(
    conn: asyncpg.Connection,
    *,
    scope: Scope,
    home_id: UUID | None = None,
    statuses: list[str] | None = None,
    severities: list[str] | None = None,
    kinds: list[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before: tuple[datetime, UUID] | None = None,
    limit: int = 50,
    family: bool = False,
) -> list[asyncpg.Record]:
    """Alerts the scope sees, newest triggered first, strictly after the keyset position `before`
    (family: only the kinds whose audience is everyone, migration 0021).

    Only the filters given become conditions, so each combination gets its own plan; a provider's
    listing is a range of the (organisation_id, triggered_at DESC, id DESC) index.
    """
    where, args = scope.where(org_column="organisation_id", home_column="home_id", param=1)
    conditions = [where, FOR_FAMILY] if family else [where]
    for column, value, op in (
        ("home_id", home_id, "= ${}"),
        ("status", statuses, "= ANY(${}::text[])"),
        ("severity", severities, "= ANY(${}::text[])"),
        ("kind", kinds, "= ANY(${}::text[])"),
        ("triggered_at", since, ">= ${}"),
        ("triggered_at", until, "< ${}"),
    ):
        if value:
            args.append(value)
            conditions.append(f"{column} {op.format(len(args))}")
    if before is not None:
        args.extend(before)
        conditions.append(f"(triggered_at, id) < (${len(args) - 1}, ${len(args)})")
    args.append(limit)
    rows: list[asyncpg.Record] = await conn.fetch(
        f"""
        SELECT {_LIST_COLUMNS} FROM alerts WHERE {" AND ".join(conditions)}
        ORDER BY triggered_at DESC, id DESC LIMIT ${len(args)}
        """,
        *args,
    )
    return rows


async def get_scoped(
    conn: asyncpg.Connection, *, alert_id: UUID, scope: Scope, family: bool = False
) -> asyncpg.Record | None:
    """One alert if the scope sees it (and, for a family member, its kind is for everyone), else None."""
    where, args = scope.where(org_column="organisation_id", home_column="home_id", param=2)
    if family:
        where += f" AND {FOR_FAMILY}"
    return await conn.fetchrow(
        f"SELECT {_LIST_COLUMNS} FROM alerts WHERE id = $1 AND {where}", alert_id, *args
    )


async def unknown_kinds(conn: asyncpg.Connection, *, kinds: list[str]) -> list[str]:
    """Those of `kinds` that are not alert kinds, in the order given."""
    rows = await conn.fetch(
        """
        SELECT k FROM unnest($1::text[]) WITH ORDINALITY AS given(k, n)
        WHERE NOT EXISTS (SELECT 1 FROM alert_kinds a WHERE a.kind = given.k)
        ORDER BY n
        """,
        kinds,
    )
    return [str(row["k"]) for row in rows]
