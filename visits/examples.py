"""Example bodies of the visits API, shown in the OpenAPI document (Riverside Care, Mrs Okafor's home)."""

from __future__ import annotations

from typing import Any

ORGANISATION_ID = "0b7e4c1a-3f2d-4e5b-8a9c-1d2e3f4a5b6c"
HOME_ID = "a1b2c3d4-e5f6-4711-8899-aabbccddeeff"
CARER_ID = "6f1c2a9e-8d4b-4c1e-9a57-2b1f3c4d5e6f"
PLAN_ID = "5b0e9a4c-7d21-4f3e-8c6b-1a2b3c4d5e6f"
PLAN_VISIT_ID = "9c8b7a6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
VISIT_ID = "e1f2a3b4-c5d6-4e7f-8a9b-0c1d2e3f4a5b"
EVENT_ID = "2a3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d"
TAG_ROW_ID = "7d6c5b4a-3f2e-4d1c-8b0a-9f8e7d6c5b4a"

CARER = {"id": CARER_ID, "name": "Sam Patel"}

VISIT: dict[str, Any] = {
    "id": VISIT_ID,
    "home_id": HOME_ID,
    "organisation_id": ORGANISATION_ID,
    "plan_id": PLAN_ID,
    "service_type": "personal_care",
    "local_date": "2026-12-02",
    "planned_start": "2026-12-02T08:00:00Z",
    "planned_end": "2026-12-02T08:45:00Z",
    "planned_minutes": 45,
    "status": "in_progress",
    "live_status": "in_progress",
    "status_reason": "",
    "carers_required": 1,
    "required_skills": ["medication"],
    "carers": [CARER],
    "tasks": [
        {"task": "medication", "status": "done", "note": "", "recorded_at": "2026-12-02T08:10:00Z"},
        {"task": "breakfast", "status": "pending", "note": "", "recorded_at": None},
    ],
    "checked_in_at": "2026-12-02T08:03:00Z",
    "checked_out_at": None,
    "check_in_method": "tag",
    "check_out_method": None,
    "minutes_delivered": None,
    "flags": [],
}

EVENT: dict[str, Any] = {
    "id": EVENT_ID,
    "visit_id": VISIT_ID,
    "home_id": HOME_ID,
    "carer_id": CARER_ID,
    "kind": "check_in",
    "method": "phone",
    "event_time": "2026-12-02T08:03:00Z",
    "arrival_time": "2026-12-02T08:03:01Z",
    "accuracy_m": 12.0,
    "distance_m": 18.5,
    "flags": [],
    "accepted": True,
    "reason": "",
}

BOARD: dict[str, Any] = {
    "organisation_id": ORGANISATION_ID,
    "date": "2026-12-02",
    "counts": {"in_progress": 1},
    "visits": [VISIT],
    "next_cursor": None,
}

VERIFICATION: dict[str, Any] = {
    "visit_id": VISIT_ID,
    "service_type": "personal_care",
    "home_id": HOME_ID,
    "home_name": "Mrs Okafor, 14 Mill Lane",
    "carers": [CARER],
    "local_date": "2026-12-02",
    "latitude": 51.4613,
    "longitude": -0.3037,
    "planned_start": "2026-12-02T08:00:00Z",
    "planned_end": "2026-12-02T08:45:00Z",
    "checked_in_at": "2026-12-02T08:03:00Z",
    "checked_out_at": "2026-12-02T08:47:00Z",
    "check_in_method": "tag",
    "check_out_method": "tag",
    "status": "completed",
    "verdict": "verified",
    "reasons": ["the front door opened a minute after the check-in", "movement in the kitchen"],
    "evidence": {"front_door": "opened 08:04, 08:47", "rooms": {"kitchen": 6}},
    "computed_at": "2026-12-02T09:00:00Z",
}

FAMILY_VISIT: dict[str, Any] = {
    "id": VISIT_ID,
    "local_date": "2026-12-02",
    "planned_start": "2026-12-02T08:00:00Z",
    "planned_end": "2026-12-02T08:45:00Z",
    "status": "completed",
    "carers": ["Sam Patel"],
    "checked_in_at": "2026-12-02T08:03:00Z",
    "checked_out_at": "2026-12-02T08:47:00Z",
    "minutes_delivered": 44,
    "verdict": "verified",
    "reasons": ["the front door opened a minute after the check-in"],
}

TAG: dict[str, Any] = {
    "id": TAG_ROW_ID,
    "tag_id": "04A224B2C35E80",
    "user_id": CARER_ID,
    "issued_at": "2026-11-30T10:00:00Z",
    "revoked_at": None,
}

PLAN_VISIT_IN: dict[str, Any] = {
    "label": "morning",
    "weekdays": [1, 2, 3, 4, 5, 6, 7],
    "start_time": "08:00:00",
    "planned_minutes": 45,
    "tasks": ["medication", "breakfast", "personal care"],
    "carers_required": 1,
    "required_skills": ["medication"],
    "carer_ids": [CARER_ID],
}

PLAN: dict[str, Any] = {
    "id": PLAN_ID,
    "home_id": HOME_ID,
    "organisation_id": ORGANISATION_ID,
    "name": "Daily support",
    "service_type": "personal_care",
    "starts_on": "2026-12-01",
    "ends_on": None,
    "active": True,
    "rules": {
        "late_after_minutes": 15,
        "missed_after_minutes": None,
        "short_below_percent": 75,
        "no_checkout_after_minutes": 60,
        "alerts_off": [],
    },
    "visits": [{**PLAN_VISIT_IN, "id": PLAN_VISIT_ID, "interval_weeks": 1, "active": True}],
    "changes": [
        {
            "id": "3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f",
            "kind": "pause",
            "plan_visit_id": None,
            "occurrence_date": None,
            "local_date": None,
            "start_time": None,
            "planned_minutes": None,
            "tasks": None,
            "paused_from": "2026-12-08",
            "paused_until": "2026-12-12",
            "reason": "hospital stay",
            "created_at": "2026-12-05T16:20:00Z",
        }
    ],
    "created_at": "2026-11-30T10:00:00Z",
}

CHANGES_IN: dict[str, dict[str, Any]] = {
    "pause": {
        "kind": "pause",
        "paused_from": "2026-12-08",
        "paused_until": "2026-12-12",
        "reason": "hospital stay",
    },
    "cancel": {
        "kind": "cancel",
        "plan_visit_id": PLAN_VISIT_ID,
        "occurrence_date": "2026-12-03",
        "reason": "family visiting",
    },
    "move": {
        "kind": "move",
        "plan_visit_id": PLAN_VISIT_ID,
        "occurrence_date": "2026-12-04",
        "local_date": "2026-12-04",
        "start_time": "10:30:00",
        "reason": "GP appointment at 09:00",
    },
    "extra": {
        "kind": "extra",
        "local_date": "2026-12-05",
        "start_time": "18:00:00",
        "planned_minutes": 30,
        "tasks": ["supper"],
        "reason": "extra evening call",
    },
}

SKILLS: list[Any] = ["medication", "hoist"]
