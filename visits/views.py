"""Visits as people read them: the live status against the clock, minutes delivered, the log as CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import orjson

# The verification log's CSV columns, in order (the six EVV elements first).
LOG_COLUMNS = (
    "visit_id",
    "service_type",
    "home_name",
    "home_id",
    "carers",
    "local_date",
    "latitude",
    "longitude",
    "checked_in_at",
    "checked_out_at",
    "planned_start",
    "planned_end",
    "check_in_method",
    "check_out_method",
    "status",
    "verdict",
    "reasons",
)


def live_status(row: asyncpg.Record | dict[str, Any], now: datetime, late_after: timedelta) -> str:
    """The visit's status at `now`: upcoming, due, late, in_progress, overrunning, or as stored."""
    status: str = row["status"]
    if status in ("completed", "missed", "cancelled"):
        return status
    if status == "in_progress":
        return "overrunning" if now > row["planned_end"] else "in_progress"
    if now < row["planned_start"]:
        return "upcoming"
    return "due" if now < row["planned_start"] + late_after else "late"


def minutes_delivered(row: asyncpg.Record | dict[str, Any]) -> int | None:
    """Whole minutes from check-in to check-out; None until checked out."""
    if row["checked_in_at"] is None or row["checked_out_at"] is None:
        return None
    delivered: timedelta = row["checked_out_at"] - row["checked_in_at"]
    return round(delivered.total_seconds() / 60)


def visit_view(row: asyncpg.Record, now: datetime) -> dict[str, Any]:
    """A visit row (queries.VISIT_COLUMNS) as VisitOut reads it."""
    late = (
        timedelta(minutes=row["late_after_minutes"]) if "late_after_minutes" in row else timedelta(minutes=15)
    )
    return {
        **dict(row),
        "live_status": live_status(row, now, late),
        "minutes_delivered": minutes_delivered(row),
        "flags": sorted(row["flags"]),
    }


def board_view(row: asyncpg.Record, now: datetime) -> dict[str, Any]:
    """A board row (queries.board_page: carers and tasks as JSON text) in VisitOut's shape and order."""
    # Field by field rather than visit_view's copy of the whole row: the board builds fifty of these for
    # every request (issue 14's profile); tests/visits/test_board.py checks the shape against BoardOut.
    # The plan's lateness is NULL where live_status does not read it (not a planned visit past its start).
    return {
        "id": row["id"],
        "home_id": row["home_id"],
        "organisation_id": row["organisation_id"],
        "plan_id": row["plan_id"],
        "service_type": row["service_type"],
        "local_date": row["local_date"],
        "planned_start": row["planned_start"],
        "planned_end": row["planned_end"],
        "planned_minutes": row["planned_minutes"],
        "status": row["status"],
        "live_status": live_status(row, now, timedelta(minutes=row["late_after_minutes"] or 0)),
        "status_reason": row["status_reason"],
        "carers_required": row["carers_required"],
        "required_skills": row["required_skills"],
        "carers": orjson.Fragment(row["carers"]),
        "tasks": orjson.Fragment(row["tasks"]),
        "checked_in_at": row["checked_in_at"],
        "checked_out_at": row["checked_out_at"],
        "check_in_method": row["check_in_method"],
        "check_out_method": row["check_out_method"],
        "minutes_delivered": minutes_delivered(row),
        "flags": sorted(row["flags"]),
    }


def family_view(row: asyncpg.Record) -> dict[str, Any]:
    """A visit (log row) as a family member sees it: when, who, for how long, the verdict."""
    return {
        "id": row["id"],
        "local_date": row["local_date"],
        "planned_start": row["planned_start"],
        "planned_end": row["planned_end"],
        "status": row["status"],
        "carers": [c["name"] for c in row["carers"]],
        "checked_in_at": row["checked_in_at"],
        "checked_out_at": row["checked_out_at"],
        "minutes_delivered": minutes_delivered(row),
        "verdict": row["verdict"],
        "reasons": row["reasons"],
    }


def log_view(row: asyncpg.Record) -> dict[str, Any]:
    """A log row as VerificationOut reads it."""
    return {**dict(row), "visit_id": row["id"]}


def log_csv(rows: Iterable[asyncpg.Record]) -> str:
    """The verification log as CSV (carers and reasons joined with '; ')."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(LOG_COLUMNS)
    for row in rows:
        view = log_view(row)
        view["carers"] = "; ".join(c["name"] for c in row["carers"])
        view["reasons"] = "; ".join(str(r) for r in row["reasons"])
        writer.writerow([_cell(view[c]) for c in LOG_COLUMNS])
    return out.getvalue()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    text = str(value)
    # A spreadsheet would run a cell that starts like a formula; quote it as text.
    return "'" + text if text[:1] in ("=", "+", "-", "@") and not _number(text) else text


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
