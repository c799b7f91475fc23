"""Example bodies of the accounts API, shown in the OpenAPI document (Riverside Care and its homes)."""

from __future__ import annotations

from typing import Any

ORGANISATION_ID = "0b7e4c1a-3f2d-4e5b-8a9c-1d2e3f4a5b6c"
HOME_ID = "a1b2c3d4-e5f6-4711-8899-aabbccddeeff"
CARER_ID = "6f1c2a9e-8d4b-4c1e-9a57-2b1f3c4d5e6f"
FAMILY_ID = "d4e5f6a7-b8c9-4d0e-8f1a-2b3c4d5e6f70"
# api.pagination.encode(created_at, id) of USER: the position after it
_CURSOR = "WyIyMDI2LTAxLTA1VDA5OjMwOjAwKzAwOjAwIiwiNmYxYzJhOWUtOGQ0Yi00YzFlLTlhNTctMmIxZjNjNGQ1ZTZmIl0"

USER: dict[str, Any] = {
    "id": CARER_ID,
    "email": "sam.carer@riverside.example",
    "name": "Sam Patel",
    "role": "carer",
    "organisation_id": ORGANISATION_ID,
    "active": True,
    "activated": True,
    "created_at": "2026-01-05T09:30:00Z",
}

USER_PAGE: dict[str, Any] = {"items": [USER], "next_cursor": _CURSOR}

INVITATION: dict[str, Any] = {
    "user": {
        **USER,
        "id": FAMILY_ID,
        "email": "jo.daughter@example.org",
        "name": "Jo Smith",
        "role": "family",
        "activated": False,
        "created_at": "2026-01-06T14:02:11Z",
    },
    "token": "tci_Qm9vdHN0cmFwIHRva2Vu",
    "expires_at": "2026-01-13T14:02:11Z",
}

ME: dict[str, Any] = {
    "kind": "user",
    "id": CARER_ID,
    "name": "Sam Patel",
    "role": "carer",
    "organisation_id": ORGANISATION_ID,
    "home_ids": [HOME_ID],
}

API_KEY: dict[str, Any] = {
    "id": "7a8b9c0d-1e2f-4a3b-9c4d-5e6f7a8b9c0d",
    "organisation_id": ORGANISATION_ID,
    "name": "call-centre bridge",
    "prefix": "tck_Zx81Qa",
    "created_at": "2026-01-07T10:15:00Z",
    "revoked_at": None,
}

API_KEY_CREATED: dict[str, Any] = {**API_KEY, "key": "tck_Zx81Qa4mT0vW9yB2cE5hJ8kN1pR3sU6x"}

CIRCLE_MEMBER: dict[str, Any] = {
    "home_id": HOME_ID,
    "user_id": FAMILY_ID,
    "name": "Jo Smith",
    "email": "jo.daughter@example.org",
    "relationship": "daughter",
    "receives_alerts": True,
    "created_at": "2026-01-06T15:20:00Z",
}

CARER: dict[str, Any] = {
    "home_id": HOME_ID,
    "user_id": CARER_ID,
    "name": "Sam Patel",
    "email": "sam.carer@riverside.example",
    "created_at": "2026-01-05T10:00:00Z",
}

AUDIT: dict[str, Any] = {
    "id": 4182,
    "at": "2026-01-06T15:20:00Z",
    "actor_kind": "user",
    "actor_id": "2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f",
    "actor_name": "Alex Morgan (coordinator)",
    "organisation_id": ORGANISATION_ID,
    "action": "circle.add",
    "target_type": "home",
    "target_id": HOME_ID,
    "detail": {"user_id": FAMILY_ID, "relationship": "daughter"},
    "client_addr": "203.0.113.24",
    "user_agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
}

AUDIT_PAGE: dict[str, Any] = {"items": [AUDIT], "next_cursor": None}
