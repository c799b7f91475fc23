"""Finding 2 of issue 11: a coordinator put another organisation's family member in a circle of care."""

from __future__ import annotations

import uuid

from tests.api.conftest import Api


async def test_another_organisations_family_member_cannot_join_a_circle(api: Api) -> None:
    a, b = api.world.a, api.world.b
    body = {"user_id": str(b.family), "relationship": "daughter"}
    response = await api.client.post(f"/v1/homes/{a.home}/circle", json=body, headers=a.tokens["coordinator"])
    assert response.status_code == 404, response.text
    assert response.json()["detail"] == f"user {b.family} not found"
    assert "birch" not in response.text.lower()  # neither B's name nor email
    homes = await api.client.get("/v1/homes", headers=b.tokens["family"])
    assert [h["id"] for h in homes.json()] == [str(b.home)]
    alerts = await api.client.get(f"/v1/alerts?home_id={a.home}", headers=b.tokens["family"])
    assert alerts.json()["items"] == []


async def test_a_foreign_coordinator_answers_as_a_missing_user_not_by_their_role(api: Api) -> None:
    a, b = api.world.a, api.world.b
    for path, user in (("circle", b.coordinator), ("carers", b.coordinator), ("carers", b.family)):
        body = {"user_id": str(user), "relationship": "x"} if path == "circle" else {"user_id": str(user)}
        response = await api.client.post(
            f"/v1/homes/{a.home}/{path}", json=body, headers=a.tokens["coordinator"]
        )
        assert (response.status_code, response.json()["detail"]) == (404, f"user {user} not found")
    # Within the tenant the reason is given.
    own = {"user_id": str(a.coordinator), "relationship": "x"}
    response = await api.client.post(f"/v1/homes/{a.home}/circle", json=own, headers=a.tokens["coordinator"])
    assert (response.status_code, response.json()["detail"]) == (
        422,
        f"user {a.coordinator} is not a family member",
    )


async def test_a_platform_admin_is_told_the_family_member_is_another_organisations(api: Api) -> None:
    a, b = api.world.a, api.world.b
    body = {"user_id": str(b.family), "relationship": "daughter"}
    response = await api.client.post(f"/v1/homes/{a.home}/circle", json=body, headers=api.world.admin)
    assert response.status_code == 422
    assert "another organisation" in response.json()["detail"]
    circle = await api.client.get(f"/v1/homes/{a.home}/circle", headers=api.world.admin)
    assert [m["user_id"] for m in circle.json()] == [str(a.family)]


async def test_a_family_member_belongs_to_an_organisation(api: Api) -> None:
    body = {"email": f"{uuid.uuid4().hex[:8]}@family.example", "role": "family"}
    response = await api.client.post("/v1/invitations", json=body, headers=api.world.admin)
    assert (response.status_code, response.json()["detail"]) == (
        422,
        "a family member belongs to an organisation",
    )
    by_coordinator = await api.client.post(
        "/v1/invitations", json=body, headers=api.world.a.tokens["coordinator"]
    )
    assert by_coordinator.status_code == 201
    assert by_coordinator.json()["user"]["organisation_id"] == str(api.world.a.org)


async def test_alerts_are_assigned_only_to_the_tenants_staff(api: Api) -> None:
    a, b = api.world.a, api.world.b
    path = f"/v1/alerts/{a.alert}/assign"
    for user in (b.carer, b.coordinator, uuid.uuid4()):
        response = await api.client.post(path, json={"assignee": str(user)}, headers=a.tokens["coordinator"])
        assert (response.status_code, response.json()["detail"]) == (404, f"user {user} not found")
    family = await api.client.post(path, json={"assignee": str(a.family)}, headers=a.tokens["coordinator"])
    assert family.status_code == 422
    ok = await api.client.post(path, json={"assignee": str(a.carer)}, headers=a.tokens["coordinator"])
    assert ok.status_code == 200 and ok.json()["assigned_to"] == str(a.carer)
