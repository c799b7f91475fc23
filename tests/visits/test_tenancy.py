"""Visits tenancy: a carer sees and checks in to their own visits only, a family member sees their
relative's only, a coordinator their organisation's only; every wrong door answers as a missing id."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from .conftest import HOME_AT, VisitsApi, make_visit

FIX = {"latitude": HOME_AT[0], "longitude": HOME_AT[1], "accuracy_m": 10}


async def _answers(
    vapi: VisitsApi, method: str, path: str, headers: dict[str, str], body: object = None
) -> tuple[int, str]:
    response = await vapi.client.request(method, path, json=body, headers=headers)
    return response.status_code, response.json().get("detail", "") if response.status_code >= 400 else ""


async def test_wrong_doors_answer_as_missing_ones(vapi: VisitsApi) -> None:
    a, b = vapi.a, vapi.b
    now = datetime.now(UTC)
    async with vapi.pool.acquire() as conn:
        own = await make_visit(conn, a, start=now, carers=(a.carer,))
        colleague = await make_visit(conn, a, start=now, carers=(a.second_carer,))
        elsewhere = await make_visit(conn, a, start=now, carers=(a.carer,), home=a.other_home)
        foreign = await make_visit(conn, b, start=now, carers=(b.carer,))
    doors = [
        ("GET", "/v1/visits/{}", None),
        ("GET", "/v1/visits/{}/events", None),
        ("POST", "/v1/visits/{}/check-in", FIX),
        ("POST", "/v1/visits/{}/check-out", FIX),
        ("POST", "/v1/visits/{}/tasks", {"task": "medication", "status": "done"}),
    ]
    closed = {
        "carer": [colleague, foreign],  # a colleague's visit at a home of theirs, another provider's
        "family": [elsewhere, foreign],  # another home of the same provider, another provider's
        "coordinator": [foreign],
    }
    for who, visits in closed.items():
        for method, path, body in doors:
            for visit in visits:
                missing = uuid.uuid4()
                expected = await _answers(vapi, method, path.format(missing), a.tokens[who], body)
                got = await _answers(vapi, method, path.format(visit), a.tokens[who], body)
                assert expected[0] == 404, (who, method, path)
                assert got == (404, expected[1].replace(str(missing), str(visit))), (who, method, path, visit)
    # The right doors are open.
    assert (await _answers(vapi, "POST", f"/v1/visits/{own}/check-in", a.tokens["carer"], FIX))[0] == 201
    assert (await _answers(vapi, "GET", f"/v1/visits/{own}", a.tokens["coordinator"]))[0] == 200
    assert (await _answers(vapi, "GET", f"/v1/homes/{a.home}/visits", a.tokens["family"]))[0] == 200


async def test_listings_hold_only_what_is_the_callers(vapi: VisitsApi) -> None:
    a, b = vapi.a, vapi.b
    now = datetime.now(UTC)
    async with vapi.pool.acquire() as conn:
        own = await make_visit(conn, a, start=now - timedelta(minutes=1), carers=(a.carer,))
        await make_visit(conn, a, start=now - timedelta(minutes=1), carers=(a.second_carer,))
        other_home = await make_visit(conn, a, start=now, carers=(a.carer,), home=a.other_home)
        await make_visit(conn, b, start=now, carers=(b.carer,))
    mine = (await vapi.client.get("/v1/visits/mine", headers=a.tokens["carer"])).json()
    assert [v["id"] for v in mine] == [str(own), str(other_home)]
    family = (await vapi.client.get(f"/v1/homes/{a.home}/visits", headers=a.tokens["family"])).json()
    # Every visit of their relative's home (whoever the carer), none of the provider's other home.
    assert len(family) == 2 and str(own) in {v["id"] for v in family}
    assert str(other_home) not in {v["id"] for v in family}
    for who in ("coordinator", "carer", "family"):
        for what in ("log", "board"):
            response = await vapi.client.get(
                f"/v1/organisations/{b.org}/visits/{what}", headers=a.tokens[who]
            )
            assert response.status_code == 404, (who, what)
    own_board = (
        await vapi.client.get(f"/v1/organisations/{a.org}/visits/board", headers=a.tokens["coordinator"])
    ).json()
    assert {v["organisation_id"] for v in own_board["visits"]} == {str(a.org)}
    assert len(own_board["visits"]) == 3
    for who in ("carer", "family"):
        refused = await vapi.client.get(f"/v1/organisations/{a.org}/visits/board", headers=a.tokens[who])
        assert refused.status_code == 403
