"""A person's own notification settings in the console: a contact point added (a code sent to it),
verified with that code, removed; preferences with quiet hours saved; every form needs its CSRF token,
and another person's contact point is the plain 404 page."""

from __future__ import annotations

from uuid import UUID

from tests.console.conftest import Console
from tests.console.helpers import csrf_of, log_in
from tests.console.test_tenancy import _is_plain_404


async def _code(console: Console, point: UUID) -> str:
    async with console.pool.acquire() as conn:
        payload = await conn.fetchval(
            "SELECT payload FROM notification_deliveries WHERE contact_point_id = $1 AND purpose = 'verify'",
            point,
        )
    return str(payload["code"])


async def test_a_family_member_adds_verifies_and_removes_a_contact_point(console: Console) -> None:
    a = console.world.a
    await log_in(console.client, "family@alder.example")
    page = await console.client.get("/console/settings")
    assert page.status_code == 200 and "Where we reach you" in page.text
    token = csrf_of(page.text)
    added = await console.client.post(
        "/console/settings/contact-points",
        data={"csrf": token, "channel": "sms", "address": "+447700900123", "label": "mobile"},
    )
    assert added.status_code == 303
    async with console.pool.acquire() as conn:
        point = await conn.fetchval(
            "SELECT id FROM notification_contact_points WHERE user_id = $1 AND address = '+447700900123'",
            a.family,
        )
    shown = await console.client.get("/console/settings?done=added")
    assert "We have sent a code there" in shown.text and "Waiting for its code" in shown.text

    wrong = await console.client.post(
        f"/console/settings/contact-points/{point}/verify", data={"csrf": token, "code": "000000x"}
    )
    assert wrong.status_code == 422 and "Not saved" in wrong.text
    verified = await console.client.post(
        f"/console/settings/contact-points/{point}/verify",
        data={"csrf": token, "code": await _code(console, point)},
    )
    assert verified.status_code == 303
    async with console.pool.acquire() as conn:
        assert await conn.fetchval(
            "SELECT verified_at IS NOT NULL FROM notification_contact_points WHERE id = $1", point
        )
    bad = await console.client.post(
        "/console/settings/contact-points", data={"csrf": token, "channel": "sms", "address": "07700"}
    )
    assert bad.status_code == 422 and "phone number like" in bad.text

    removed = await console.client.post(
        f"/console/settings/contact-points/{point}/remove", data={"csrf": token}
    )
    assert removed.status_code == 303
    async with console.pool.acquire() as conn:
        left = await conn.fetchval("SELECT count(*) FROM notification_contact_points WHERE id = $1", point)
    assert left == 0


async def test_preferences_and_quiet_hours_are_saved_from_the_form(console: Console) -> None:
    await log_in(console.client, "family@alder.example")
    token = csrf_of((await console.client.get("/console/settings")).text)
    saved = await console.client.post(
        "/console/settings/preferences",
        data={
            "csrf": token,
            "min_severity": "high",
            "channels": ["email", "sms"],
            "quiet": "on",
            "quiet_start": "21:30",
            "quiet_end": "07:15",
            "timezone": "Europe/London",
            "daily_digest": "on",
            "digest_hour": "18",
        },
    )
    assert saved.status_code == 303
    page = await console.client.get("/console/settings?done=saved")
    assert "Your preferences are saved." in page.text
    assert 'value="21:30"' in page.text and 'value="07:15"' in page.text
    assert '<option value="high" selected>' in page.text and '<option value="18" selected>' in page.text
    async with console.pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT * FROM notification_preferences WHERE user_id = $1", console.world.a.family
        )
    assert row["channels"] == ["email", "sms"] and not row["digest_low"] and row["digest_hour"] == 18
    assert row["quiet_start"].strftime("%H:%M") == "21:30"

    half = await console.client.post(
        "/console/settings/preferences",
        data={"csrf": token, "min_severity": "high", "quiet": "on", "quiet_start": "21:30", "quiet_end": ""},
    )
    assert half.status_code == 422 and "give both or neither" in half.text


async def test_settings_forms_need_their_token_and_nobody_touches_anothers_contact_point(
    console: Console,
) -> None:
    a = console.world.a
    await log_in(console.client, "family@alder.example")
    token = csrf_of((await console.client.get("/console/settings")).text)
    for path in ("/console/settings/contact-points", "/console/settings/preferences"):
        refused = await console.client.post(path, data={"channel": "email", "address": "x@example.org"})
        assert refused.status_code == 403, path
    for action in ("verify", "remove"):
        response = await console.client.post(
            f"/console/settings/contact-points/{a.contact_point}/{action}",
            data={"csrf": token, "code": "123456"},
        )
        assert _is_plain_404(response), action
    async with console.pool.acquire() as conn:
        assert await conn.fetchval(
            "SELECT count(*) FROM notification_contact_points WHERE id = $1", a.contact_point
        )
