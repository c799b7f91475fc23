"""Finding 6 of issue 11: request bodies take the types their schema says, nothing coerced into them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from kernel.strict import RequestBody
from tests.api.conftest import Api


def _subclasses(cls: type[RequestBody]) -> set[str]:
    found: set[str] = set()
    for sub in cls.__subclasses__():
        found |= {sub.__name__} | _subclasses(sub)
    return found


async def test_every_request_body_is_a_strict_model(api: Api) -> None:
    document = (await api.client.get("/openapi.json")).json()
    bodies = set()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for content in operation.get("requestBody", {}).get("content", {}).values():
                schema = content["schema"]
                refs = [schema, *schema.get("anyOf", []), *schema.get("oneOf", [])]
                names = [r["$ref"].rsplit("/", 1)[1] for r in refs if "$ref" in r]
                if names:
                    bodies |= {(f"{method.upper()} {path}", name) for name in names}
                else:  # a form (the login) is read by its route, field by field
                    assert path == "/v1/auth/token", (method, path, schema)
    assert bodies, "no request body found in the document"
    strict = _subclasses(RequestBody)
    assert [b for b in bodies if b[1] not in strict] == []


COERCED: list[tuple[str, str, dict[str, Any], str]] = [
    ("PATCH", "/v1/users/{carer}", {"active": 0}, "active"),
    ("PATCH", "/v1/users/{carer}", {"active": "false"}, "active"),
    ("POST", "/v1/organisations/{org}/homes", {"name": "x", "longitude": False}, "longitude"),
    ("POST", "/v1/organisations/{org}/homes", {"name": "x", "latitude": "51.5"}, "latitude"),
    ("POST", "/v1/organisations/{org}/homes", {"name": 7}, "name"),
    (
        "POST",
        "/v1/homes/{home}/circle",
        {"user_id": "{family}", "relationship": "x", "receives_alerts": 1},
        "receives_alerts",
    ),
    ("POST", "/v1/homes/{home}/devices", {"type": 1}, "type"),
    ("POST", "/v1/homes/{home}/carers", {"user_id": 5}, "user_id"),
    ("POST", "/v1/alerts/{alert}/resolve", {"note": "ok", "false_alarm": "yes"}, "false_alarm"),
    ("POST", "/v1/alerts/{alert}/acknowledge", {"note": 3}, "note"),
    ("POST", "/v1/organisations/{org}/api-keys", {"name": ["a"]}, "name"),
]


@pytest.mark.parametrize(("method", "path", "body", "field"), COERCED, ids=[c[3] for c in COERCED])
async def test_a_value_of_another_type_is_refused_with_the_reason(
    api: Api, method: str, path: str, body: dict[str, Any], field: str
) -> None:
    a = api.world.a
    ids = {k: str(v) for k, v in vars(a).items() if k != "tokens"}
    filled = {k: v.format(**ids) if isinstance(v, str) else v for k, v in body.items()}
    response = await api.client.request(
        method, path.format(**ids), json=filled, headers=a.tokens["coordinator"]
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"].startswith(f"body.{field}: "), response.text
    user = await api.client.get(f"/v1/users/{a.carer}", headers=a.tokens["coordinator"])
    assert user.json()["active"] is True  # nothing was changed


async def test_uuids_and_enums_still_arrive_as_json_text(api: Api) -> None:
    a = api.world.a
    response = await api.client.post(
        f"/v1/alerts/{a.alert}/assign", json={"assignee": str(a.carer)}, headers=a.tokens["coordinator"]
    )
    assert response.status_code == 200, response.text
    home = await api.client.post(
        f"/v1/organisations/{a.org}/homes",
        json={"name": "x", "latitude": 51, "longitude": -0.5},
        headers=a.tokens["coordinator"],
    )
    assert home.status_code == 201 and home.json()["latitude"] == 51.0


@pytest.mark.parametrize(
    "path",
    [
        "/v1/alerts?until={n}",
        "/v1/alerts?since={n}",
        "/v1/homes/{home}/readings?start={n}",
        "/v1/homes/{home}/readings?end={n}",
    ],
)
async def test_a_number_is_not_taken_for_a_time(api: Api, path: str) -> None:
    a = api.world.a
    for number in ("0.0", "1767225600"):
        response = await api.client.get(path.format(n=number, home=a.home), headers=a.tokens["coordinator"])
        assert response.status_code == 422, (path, number, response.text)
        assert "ISO 8601" in response.text
    recent = (datetime.now(UTC) - timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    fine = await api.client.get(path.format(n=recent, home=a.home), headers=a.tokens["coordinator"])
    assert fine.status_code == 200, fine.text


@pytest.mark.parametrize(
    "path",
    ["/v1/homes/{home}/visits?since={n}", "/v1/homes/{home}/visit-report?since={n}"],
)
async def test_a_number_is_not_taken_for_a_date(api: Api, path: str) -> None:
    a = api.world.a
    for number in ("0", "1767225600"):
        response = await api.client.get(path.format(n=number, home=a.home), headers=a.tokens["coordinator"])
        assert response.status_code == 422, (path, number, response.text)
        assert "ISO 8601" in response.text
    recent = (datetime.now(UTC) - timedelta(days=2)).date().isoformat()
    fine = await api.client.get(path.format(n=recent, home=a.home), headers=a.tokens["coordinator"])
    assert fine.status_code == 200, fine.text


async def test_a_limit_on_text_counts_the_spaces_sent(api: Api) -> None:
    """maxLength is about the text as sent: a space in front does not buy one more character."""
    a = api.world.a
    path = f"/v1/organisations/{a.org}/homes"
    headers = a.tokens["coordinator"]
    for sent in ("\r\u00a5" + "*" * 199, " " + "x" * 200):
        response = await api.client.post(path, json={"name": sent}, headers=headers)
        assert response.status_code == 422, response.text
        assert response.json()["detail"].startswith("body.name: "), response.text
        assert "at most 200 characters" in response.text
    kept = await api.client.post(path, json={"name": "  " + "x" * 198}, headers=headers)
    assert kept.status_code == 201, kept.text
    assert kept.json()["name"] == "x" * 198
