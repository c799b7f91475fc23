"""The response report: for each severity, how fast alerts were notified, acknowledged and resolved.

Median and 90th percentile of the time from an alert's event to its first notification, to its
acknowledgement and to its resolution, the share acknowledged within 60 s and 180 s (the call-answering
measures telecare services are held to), failed deliveries, and escalations that reached the last step.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

COLUMNS = (
    "severity",
    "alerts",
    "notify_median_s",
    "notify_p90_s",
    "ack_median_s",
    "ack_p90_s",
    "acked_within_60s",
    "acked_within_180s",
    "resolve_median_s",
    "resolve_p90_s",
    "failed_deliveries",
    "failed_attempts",
    "reached_last_step",
)


async def response_report(
    conn: asyncpg.Connection, *, organisation_id: UUID, home_id: UUID | None, since: datetime, until: datetime
) -> list[dict[str, Any]]:
    """One row per severity that had alerts in [since, until) (by the alerts' event time)."""
    rows = await conn.fetch(
        """
        WITH a AS (
            SELECT a.id, a.severity,
                   extract(epoch FROM (SELECT min(d.sent_at) FROM notification_deliveries d
                                       WHERE d.alert_id = a.id AND d.purpose = 'alert')
                                      - a.triggered_at) AS notify_s,
                   extract(epoch FROM a.acknowledged_at - a.triggered_at) AS ack_s,
                   extract(epoch FROM a.resolved_at - a.triggered_at) AS resolve_s,
                   (SELECT count(*) FROM notification_deliveries d
                    WHERE d.alert_id = a.id AND d.status = 'failed') AS failed,
                   (SELECT count(*) FROM notification_attempts t
                    JOIN notification_deliveries d ON d.id = t.delivery_id
                    WHERE d.alert_id = a.id AND t.event = 'failed') AS failed_attempts,
                   coalesce((SELECT c.reached_last FROM notification_chains c WHERE c.alert_id = a.id),
                            false) AS last
            FROM alerts a
            WHERE a.organisation_id = $1 AND ($2::uuid IS NULL OR a.home_id = $2)
              AND a.triggered_at >= $3 AND a.triggered_at < $4
        )
        SELECT severity, count(*) AS alerts,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY notify_s) AS notify_median_s,
               percentile_cont(0.9) WITHIN GROUP (ORDER BY notify_s) AS notify_p90_s,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY ack_s) AS ack_median_s,
               percentile_cont(0.9) WITHIN GROUP (ORDER BY ack_s) AS ack_p90_s,
               avg((coalesce(ack_s, 1e12) <= 60)::int)::float8 AS acked_within_60s,
               avg((coalesce(ack_s, 1e12) <= 180)::int)::float8 AS acked_within_180s,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY resolve_s) AS resolve_median_s,
               percentile_cont(0.9) WITHIN GROUP (ORDER BY resolve_s) AS resolve_p90_s,
               sum(failed)::int AS failed_deliveries, sum(failed_attempts)::int AS failed_attempts,
               count(*) FILTER (WHERE last) AS reached_last_step
        FROM a GROUP BY severity
        ORDER BY array_position(ARRAY['critical','high','medium','low'], severity)
        """,
        organisation_id,
        home_id,
        since,
        until,
    )
    return [{k: _number(r[k]) for k in COLUMNS} for r in rows]


def _number(value: Any) -> Any:
    return round(float(value), 3) if isinstance(value, float) else value


def as_csv(rows: list[dict[str, Any]]) -> str:
    """The report as CSV, a header line first (empty cells where there is no figure)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()
