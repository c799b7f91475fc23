"""Every door, every role: from another tenant (or another home) the answer is 404 or 403, every time."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI

from api.main import create_app
from kernel.settings import Settings
from tests.api.conftest import Api
from tests.api.world import Tenant

# (method, path, body); placeholders are filled from the target tenant.
DOORS: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/v1/organisations/{org}", None),
    ("GET", "/v1/organisations/{org}/devices", None),
    ("GET", "/v1/organisations/{org}/api-keys", None),
    ("POST", "/v1/organisations/{org}/api-keys", {"name": "intruder"}),
    ("POST", "/v1/organisations/{org}/homes", {"name": "intruder"}),
    ("GET", "/v1/users?organisation_id={org}", None),
    ("GET", "/v1/audit?organisation_id={org}", None),
    ("GET", "/v1/users/{coordinator}", None),
    # Not the coordinator themself: deactivation ends the caller's own session on the next request.
    ("PATCH", "/v1/users/{carer}", {"active": False}),
    ("POST", "/v1/api-keys/{api_key_id}/revoke", None),
    ("GET", "/v1/homes/{home}", None),
    ("GET", "/v1/homes/{home}/residents", None),
    ("POST", "/v1/homes/{home}/residents", {"display_name": "intruder"}),
    ("GET", "/v1/homes/{home}/circle", None),
    ("POST", "/v1/homes/{home}/circle", {"user_id": "{family}", "relationship": "x"}),
    ("DELETE", "/v1/homes/{home}/circle/{family}", None),
    ("GET", "/v1/homes/{home}/carers", None),
    ("POST", "/v1/homes/{home}/carers", {"user_id": "{carer}"}),
    ("DELETE", "/v1/homes/{home}/carers/{carer}", None),
    ("GET", "/v1/homes/{home}/devices", None),
    ("POST", "/v1/homes/{home}/devices", {"type": "pendant"}),
    ("GET", "/v1/homes/{home}/readings", None),
    ("GET", "/v1/homes/{home}/readings/aggregates", None),
    ("GET", "/v1/devices/{device}", None),
    ("POST", "/v1/devices/{device}/rotate", None),
    ("POST", "/v1/devices/{device}/revoke", None),
    ("POST", "/v1/devices/{device}/decommission", None),
    ("GET", "/v1/alerts/{alert}", None),
    ("GET", "/v1/alerts/{alert}/history", None),
    ("POST", "/v1/alerts/{alert}/acknowledge", {"note": "intruder"}),
    ("POST", "/v1/alerts/{alert}/assign", {"assignee": None}),
    ("POST", "/v1/alerts/{alert}/resolve", {"note": "intruder"}),
    ("GET", "/v1/alerts/stream?home_id={home}", None),
    # Carer visits (issue 14)
    ("GET", "/v1/homes/{home}/care-plans", None),
    ("GET", "/v1/homes/{home}/visits", None),
    ("GET", "/v1/care-plans/{plan}", None),
    ("GET", "/v1/visits/{visit}", None),
    ("GET", "/v1/visits/{visit}/events", None),
    ("GET", "/v1/organisations/{org}/visits/board", None),
    ("GET", "/v1/organisations/{org}/visits/log", None),
    ("GET", "/v1/organisations/{org}/carer-tags", None),
    # Visit reports (issue 14).
    ("GET", "/v1/organisations/{org}/visit-report", None),
    ("GET", "/v1/homes/{home}/visit-report?format=csv", None),
    ("GET", "/v1/carers/{carer}/visit-report", None),
    ("GET", "/v1/alerts/{alert}/notifications", None),
    ("GET", "/v1/homes/{home}/escalation-policy", None),
    (
        "PUT",
        "/v1/homes/{home}/escalation-policy",
        {"steps": [{"targets": [{"kind": "circle"}], "channels": ["email"], "wait_s": 60}]},
    ),
    ("GET", "/v1/organisations/{org}/escalation-policy", None),
    (
        "GET",
        "/v1/organisations/{org}/notification-report?since=2026-11-01T00:00:00Z&until=2026-12-01T00:00:00Z",
        None,
    ),
    ("POST", "/v1/contact-points/{contact_point}/verify", {"code": "123456"}),
]
# Home-level doors a carer or family member must also find closed for another home of their own provider.
HOME_DOORS = [d for d in DOORS if any(p in d[1] for p in ("{home}", "{device}", "{alert}", "{visit}"))]
ROLES = ["coordinator", "carer", "family", "integration"]


def _fill(value: Any, target: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**target)
    if isinstance(value, dict):
        return {k: _fill(v, target) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, target) for v in value]
    return value


def _ids(tenant: Tenant, *, other_home: bool = False) -> dict[str, str]:
    ids = {k: str(v) for k, v in vars(tenant).items() if k != "tokens"}
    if other_home:
        ids |= {"home": ids["other_home"], "device": ids["other_device"], "alert": ids["other_alert"]}
        ids |= {"visit": ids["other_visit"]}
    return ids


async def _knock(api: Api, headers: dict[str, str], doors: list[Any], target: dict[str, str]) -> list[str]:
    opened = []
    for method, path, body in doors:
        response = await api.client.request(
            method,
            _fill(path, target),
            json=_fill(body, target) if body is not None else None,
            headers=headers,
        )
        if response.status_code not in (403, 404):
            opened.append(f"{method} {path}: {response.status_code} {response.text[:120]}")
        else:
            assert response.headers["content-type"] == "application/problem+json"
    return opened


@pytest.mark.parametrize("role", ROLES)
async def test_another_tenants_doors_are_closed_to_every_role(api: Api, role: str) -> None:
    world = api.world
    for me, them in ((world.a, world.b), (world.b, world.a)):
        assert await _knock(api, me.tokens[role], DOORS, _ids(them)) == []


@pytest.mark.parametrize("role", ["carer", "family"])
async def test_carers_and_families_see_only_their_own_homes(api: Api, role: str) -> None:
    world = api.world
    assert await _knock(api, world.a.tokens[role], HOME_DOORS, _ids(world.a, other_home=True)) == []
    listing = await api.client.get("/v1/alerts", headers=world.a.tokens[role])
    assert [a["id"] for a in listing.json()["items"]] == [str(world.a.alert)]
    homes = await api.client.get("/v1/homes", headers=world.a.tokens[role])
    assert [h["id"] for h in homes.json()] == [str(world.a.home)]


@pytest.mark.parametrize("role", ROLES)
async def test_listings_hold_only_the_callers_tenant(api: Api, role: str) -> None:
    a, b = api.world.a, api.world.b
    headers = a.tokens[role]
    for path in (f"/v1/alerts?home_id={b.home}", f"/v1/homes?organisation_id={b.org}"):
        response = await api.client.get(path, headers=headers)
        assert response.status_code == 200
        body = response.json()
        assert (body["items"] if isinstance(body, dict) else body) == []
    alerts = (await api.client.get("/v1/alerts", headers=headers)).json()["items"]
    assert alerts and {x["organisation_id"] for x in alerts} == {str(a.org)}


async def test_the_platform_admin_opens_every_door(api: Api) -> None:
    b = _ids(api.world.b)
    reads = [d for d in DOORS if d[0] == "GET" and "stream" not in d[1]]
    for method, path, _ in reads:
        response = await api.client.request(method, _fill(path, b), headers=api.world.admin)
        assert response.status_code == 200, (path, response.text)


# Within their own tenant, what each role may not do is 403 (they can see it, but not change it).
OWN_FORBIDDEN = {
    "carer": [
        "POST /v1/homes/{home}/residents",
        "POST /v1/homes/{home}/devices",
        "POST /v1/alerts/{alert}/assign",
        "GET /v1/audit?organisation_id={org}",
        "POST /v1/devices/{device}/rotate",
    ],
    "family": [
        "POST /v1/homes/{home}/circle",
        "DELETE /v1/homes/{home}/carers/{carer}",
        "POST /v1/alerts/{alert}/assign",
        "GET /v1/users?organisation_id={org}",
    ],
    "integration": [
        "POST /v1/organisations/{org}/homes",
        "GET /v1/organisations/{org}/api-keys",
        "GET /v1/users?organisation_id={org}",
    ],
}


@pytest.mark.parametrize("role", sorted(OWN_FORBIDDEN))
async def test_within_the_tenant_a_role_is_refused_what_it_may_not_do(api: Api, role: str) -> None:
    a = api.world.a
    for door in OWN_FORBIDDEN[role]:
        method, path = door.split(" ", 1)
        body = next((b for m, p, b in DOORS if m == method and p == path), None)
        response = await api.client.request(
            method,
            _fill(path, _ids(a)),
            json=_fill(body, _ids(a)) if body is not None else None,
            headers=a.tokens[role],
        )
        assert response.status_code == 403, (door, response.status_code, response.text)


async def test_a_coordinator_opens_every_door_of_their_own_tenant(api: Api) -> None:
    """The same doors are open from the right side, so the closed ones above are closed by tenancy."""
    a = api.world.a
    skip = ("rotate", "revoke", "decommission", "stream")  # broker-side or endless; covered elsewhere
    for method, path, body in DOORS:
        if any(word in path for word in skip):
            continue
        response = await api.client.request(
            method,
            _fill(path, _ids(a)),
            json=_fill(body, _ids(a)) if body is not None else None,
            headers=a.tokens["coordinator"],
        )
        assert response.status_code < 300, (method, path, response.status_code, response.text)


# --- Every route with an id, walked with another tenant's ids and with ids that do not exist ---

# A tenant's attribute -> the kind of id it is; ids of the same kind from tenant B replace it.
KINDS = {
    "roster": "roster",
    "org": "organisation",
    "home": "home",
    "device": "device",
    "alert": "alert",
    "api_key_id": "api_key",
    "coordinator": "user",
    "carer": "user",
    "family": "user",
    "plan": "care_plan",
    "visit": "visit",
    "other_visit": "visit",
    "carer_tag": "carer_tag",
    "contact_point": "contact_point",
}
# A path parameter -> the caller's own attribute it takes when another slot is the one under test.
PATH_IDS = {
    "roster_id": "roster",
    "organisation_id": "org",
    "home_id": "home",
    "device_id": "device",
    "alert_id": "alert",
    "key_id": "api_key_id",
    "user_id": "coordinator",
    "plan_id": "plan",
    "visit_id": "visit",
    "carer_tag_id": "carer_tag",
    "carer_id": "carer",
    "contact_point_id": "contact_point",
}
NOT_IDS = {"kind", "token"}  # path parameters that name no tenant's resource (the contract's message kinds)


@dataclass(frozen=True)
class Write:
    """How to call a write route: its valid body, and which own attribute each path parameter takes."""

    body: dict[str, Any] | None = None
    path: dict[str, str] = field(default_factory=dict)


_POLICY = {"steps": [{"targets": [{"kind": "user", "id": "{family}"}], "channels": ["email"], "wait_s": 60}]}
WRITES: dict[tuple[str, str], Write] = {
    ("POST", "/v1/organisations/{organisation_id}/homes"): Write({"name": "intruder"}),
    ("PATCH", "/v1/users/{user_id}"): Write({"active": True}),
    ("POST", "/v1/invitations"): Write(
        {"email": "walk@intruder.example", "role": "carer", "organisation_id": "{org}"}
    ),
    ("POST", "/v1/organisations/{organisation_id}/api-keys"): Write({"name": "intruder"}),
    ("POST", "/v1/api-keys/{key_id}/revoke"): Write(),
    ("POST", "/v1/homes/{home_id}/residents"): Write({"display_name": "intruder"}),
    ("POST", "/v1/homes/{home_id}/circle"): Write({"user_id": "{family}", "relationship": "x"}),
    ("DELETE", "/v1/homes/{home_id}/circle/{user_id}"): Write(path={"user_id": "family"}),
    ("POST", "/v1/homes/{home_id}/carers"): Write({"user_id": "{carer}"}),
    ("DELETE", "/v1/homes/{home_id}/carers/{user_id}"): Write(path={"user_id": "carer"}),
    ("POST", "/v1/homes/{home_id}/devices"): Write({"type": "pendant"}),
    ("POST", "/v1/devices/{device_id}/rotate"): Write(),
    ("POST", "/v1/devices/{device_id}/revoke"): Write(),
    ("POST", "/v1/devices/{device_id}/decommission"): Write(),
    ("POST", "/v1/alerts/{alert_id}/acknowledge"): Write({"note": "intruder"}),
    ("POST", "/v1/alerts/{alert_id}/resolve"): Write({"note": "intruder"}),
    ("POST", "/v1/alerts/{alert_id}/assign"): Write({"assignee": "{carer}"}),
    # Rostering (issue 18)
    ("PUT", "/v1/users/{user_id}/carer-profile"): Write(
        {"home_latitude": 51.5, "home_longitude": -0.1}, path={"user_id": "carer"}
    ),
    ("POST", "/v1/organisations/{organisation_id}/rosters"): Write(
        {"start": "2026-12-07", "end": "2026-12-07", "time_limit_s": 0.5}
    ),
    ("POST", "/v1/rosters/{roster_id}/accept"): Write(),
    ("POST", "/v1/rosters/{roster_id}/replan"): Write(
        {"carer_id": "{carer}", "at": "2026-11-02T07:00:00Z", "time_limit_s": 0.5}
    ),
    # Carer visits (issue 14)
    ("POST", "/v1/homes/{home_id}/care-plans"): Write(
        {
            "name": "intruder",
            "starts_on": "2026-11-02",
            "visits": [
                {"weekdays": [1], "start_time": "08:00", "planned_minutes": 30, "carer_ids": ["{carer}"]}
            ],
        }
    ),
    ("POST", "/v1/care-plans/{plan_id}/changes"): Write(
        {"kind": "pause", "paused_from": "2026-11-03", "paused_until": "2026-11-04", "reason": "intruder"}
    ),
    ("DELETE", "/v1/care-plans/{plan_id}"): Write(),
    ("POST", "/v1/visits/{visit_id}/check-in"): Write({}),
    ("POST", "/v1/visits/{visit_id}/check-out"): Write({}),
    ("POST", "/v1/visits/{visit_id}/manual"): Write(
        {
            "kind": "check_in",
            "carer_id": "{carer}",
            "event_time": "2026-11-02T09:00:00Z",
            "reason": "intruder",
        }
    ),
    ("POST", "/v1/visits/{visit_id}/tasks"): Write({"task": "medication", "status": "done"}),
    ("PUT", "/v1/visits/{visit_id}/carers"): Write({"carer_ids": ["{carer}"], "reason": "intruder"}),
    ("POST", "/v1/organisations/{organisation_id}/carer-tags"): Write(
        {"tag_id": "intruder", "user_id": "{carer}"}
    ),
    ("POST", "/v1/carer-tags/{carer_tag_id}/revoke"): Write(),
    ("PUT", "/v1/users/{user_id}/skills"): Write({"skills": ["hoist"]}, path={"user_id": "carer"}),
    # Notifications (issue 15): an organisation's webhook, a point's code, policies naming a person.
    ("POST", "/v1/contact-points"): Write(
        {"channel": "webhook", "address": "https://arc.example/hook", "organisation_id": "{org}"}
    ),
    ("POST", "/v1/contact-points/{contact_point_id}/verify"): Write({"code": "123456"}),
    ("DELETE", "/v1/contact-points/{contact_point_id}"): Write(),
    ("PUT", "/v1/homes/{home_id}/escalation-policy"): Write(_POLICY),
    ("DELETE", "/v1/homes/{home_id}/escalation-policy"): Write(),
    ("PUT", "/v1/organisations/{organisation_id}/escalation-policy"): Write(_POLICY),
}
# Write routes that take no id of a tenant's resource, in the path or the body.
NO_IDS = {
    ("POST", "/v1/organisations"),  # platform admins only; a name
    ("POST", "/v1/auth/token"),  # credentials
    ("POST", "/v1/auth/refresh"),  # a refresh token
    ("POST", "/v1/auth/logout"),  # a refresh token
    ("POST", "/v1/invitations/accept"),  # an invitation token
    ("PUT", "/v1/me/notification-preferences"),  # the caller's own
    ("POST", "/v1/me/test-notification"),  # to the caller's own contact points
    ("POST", "/v1/notifications/ack/{token}"),  # a one-time link's token, no login
}
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def _routes(app: FastAPI) -> list[tuple[str, str]]:
    # From the OpenAPI document: every route the app serves is in it (none is left out of the schema).
    paths = app.openapi()["paths"]
    return sorted((method.upper(), path) for path, item in paths.items() for method in item)


def _call(method: str, path: str) -> tuple[Write, dict[str, str], str]:
    """The route's body, the own attribute each path id takes, and the path with those attributes."""
    names = re.findall(r"{(\w+)}", path)
    unknown = [n for n in names if n not in PATH_IDS and n not in NOT_IDS]
    assert not unknown, f"{method} {path}: say in PATH_IDS which tenant id {unknown} take"
    write = WRITES.get((method, path), Write())
    ids = {n: write.path.get(n, PATH_IDS[n]) for n in names if n not in NOT_IDS}
    return write, ids, re.sub(r"{(\w+)}", lambda m: "{" + ids.get(m[1], m[1]) + "}", path)


def _slots(write: Write, path_ids: dict[str, str]) -> set[str]:
    in_body = set(re.findall(r"{(\w+)}", orjson.dumps(write.body).decode())) if write.body else set()
    return set(path_ids.values()) | in_body


def test_the_walk_covers_every_write_route(settings: Settings) -> None:
    """A new write route fails this until it is in WRITES (walked) or NO_IDS (with the reason)."""
    app = create_app(settings)
    writes = {r for r in _routes(app) if r[0] in WRITE_METHODS}
    assert writes - WRITES.keys() - NO_IDS == set(), "walk these write routes in WRITES"
    assert (WRITES.keys() | NO_IDS) - writes == set(), "these routes are gone: take them out"


def _normalised(response: httpx.Response, value: str) -> tuple[int, str]:
    return response.status_code, response.text.replace(value, "<id>")


async def _request(
    api: Api, method: str, path: str, write: Write, ids: dict[str, str], headers: dict[str, str]
) -> httpx.Response:
    body = _fill(write.body, ids) if write.body is not None else None
    return await api.client.request(method, _fill(path, ids), json=body, headers=headers)


@pytest.mark.parametrize("role", ROLES)
async def test_another_tenants_ids_answer_as_ids_that_do_not_exist(api: Api, role: str) -> None:
    """Every route with an id, each id in turn: B's ids of that kind answer as a random id does, for A."""
    a, b = api.world.a, api.world.b
    own, theirs = _ids(a), _ids(b)
    differences, walked = [], 0
    for method, path in _routes(api.app):
        write, path_ids, template = _call(method, path)
        if "stream" in path or (method in WRITE_METHODS and (method, path) in NO_IDS):
            continue
        for slot in sorted(_slots(write, path_ids)):
            missing = str(uuid.uuid4())
            expected = _normalised(
                await _request(api, method, template, write, own | {slot: missing}, a.tokens[role]),
                missing,
            )
            foreign = {theirs[k] for k, kind in KINDS.items() if kind == KINDS[slot]}
            for value in sorted(foreign):
                response = await _request(api, method, template, write, own | {slot: value}, a.tokens[role])
                walked += 1
                if _normalised(response, value) != expected:
                    differences.append(
                        f"{method} {path} [{slot}={value}]: {response.status_code} {response.text[:160]}"
                        f" -- a missing id: {expected[0]} {expected[1][:160]}"
                    )
    assert walked > 40
    assert not differences, "\n".join(differences)
