"""Console logins: the cookie's flags, no token in the page, CSRF on every action, the login's rate limit,
logging out everywhere, and where a page without a login sends the browser."""

from __future__ import annotations

from accounts import queries as account_queries
from accounts.tokens import read_access
from kernel.settings import Settings
from tests.conftest import JWT_SECRET
from tests.console.conftest import Console
from tests.console.helpers import PASSWORD, console_app, csrf_of, log_in
from tests.console.helpers import console_settings as plain_http

COORDINATOR = "coordinator@alder.example"


async def test_the_cookies_are_secure_by_default(settings: Settings) -> None:
    assert Settings(_env_file=None).console_cookie_secure is True
    assert plain_http(settings).console_cookie_secure is False
    async with console_app(settings, secure=True) as (_, client):
        login = await client.get("/console/login")
    flags = login.headers["set-cookie"].lower()
    assert "httponly" in flags and "samesite=strict" in flags and "secure" in flags
    assert "path=/console" in flags


async def test_a_login_sets_a_cookie_and_puts_no_token_in_the_page(console: Console) -> None:
    response = await log_in(console.client, COORDINATOR)
    assert response.status_code == 303 and response.headers["location"] == "/console/"
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("telecare_console="))
    flags = cookie.lower()
    assert "httponly" in flags and "samesite=lax" in flags and "path=/console" in flags
    token = console.client.cookies["telecare_console"]
    assert read_access(JWT_SECRET, token).user_id == console.world.a.coordinator
    board = await console.client.get("/console/board")
    assert board.status_code == 200
    assert token not in board.text and "localStorage" not in board.text and "sessionStorage" not in board.text
    assert "script-src 'self'" in board.headers["content-security-policy"]
    assert board.headers["cache-control"] == "no-store"


async def test_every_action_wants_its_csrf_token(console: Console) -> None:
    a = console.world.a
    await log_in(console.client, COORDINATOR)
    token = csrf_of((await console.client.get("/console/board")).text)
    for action, extra in (("acknowledge", {}), ("assign", {"assignee": ""}), ("resolve", {"note": "x"})):
        path = f"/console/alerts/{a.alert}/{action}"
        missing = await console.client.post(path, data=extra)
        wrong = await console.client.post(path, data={**extra, "csrf": "0" * 64})
        header = await console.client.post(path, data=extra, headers={"X-CSRF-Token": "nope"})
        assert missing.status_code == wrong.status_code == header.status_code == 403, action
        assert "security token" in missing.text
    async with console.pool.acquire() as conn:
        assert await conn.fetchval("SELECT status FROM alerts WHERE id = $1", a.alert) == "open"
    done = await console.client.post(f"/console/alerts/{a.alert}/acknowledge", data={"csrf": token})
    assert done.status_code == 303
    htmx = await console.client.post(
        f"/console/alerts/{a.alert}/resolve",
        data={"false_alarm": "1"},
        headers={"X-CSRF-Token": token, "HX-Request": "true"},
    )
    assert htmx.status_code == 200 and 'id="board-live"' in htmx.text
    async with console.pool.acquire() as conn:
        row = await conn.fetchrow("SELECT status, resolution FROM alerts WHERE id = $1", a.alert)
        audit = await conn.fetch(
            "SELECT action FROM audit_log WHERE target_id = $1 ORDER BY id", str(a.alert)
        )
    assert (row["status"], row["resolution"]) == ("resolved", "false_alarm")
    assert [r["action"] for r in audit] == ["alert.acknowledge", "alert.resolve"]
    logout = await console.client.post("/console/logout")
    assert logout.status_code == 403


async def test_the_login_form_wants_its_own_token(console: Console) -> None:
    response = await console.client.post(
        "/console/login", data={"email": COORDINATOR, "password": PASSWORD, "csrf": "forged"}
    )
    assert response.status_code == 403
    assert "telecare_console" not in console.client.cookies


async def test_failed_logins_are_rate_limited_as_the_apis_are(console: Console) -> None:
    # Three failures are free, the fourth starts a delay: the fifth attempt waits.
    for _ in range(4):
        wrong = await log_in(console.client, COORDINATOR, password="not the password at all")
        assert wrong.status_code == 401 and "Wrong email or password" in wrong.text
    limited = await log_in(console.client, COORDINATOR, password="not the password at all")
    assert limited.status_code == 429 and "Too many failed attempts" in limited.text
    assert int(limited.headers["retry-after"]) >= 1
    # The API's login counts the same failures.
    api = await console.client.post(
        "/v1/auth/token", data={"username": COORDINATOR, "password": "still not the password"}
    )
    assert api.status_code == 429


async def test_logging_out_ends_the_login_everywhere(console: Console) -> None:
    await log_in(console.client, COORDINATOR)
    token = console.client.cookies["telecare_console"]
    page = await console.client.get("/console/board")
    out = await console.client.post("/console/logout", data={"csrf": csrf_of(page.text)})
    assert out.status_code == 303 and out.headers["location"] == "/console/login"
    assert "telecare_console" not in console.client.cookies
    claims = read_access(JWT_SECRET, token)
    async with console.pool.acquire() as conn:
        assert not await account_queries.session_valid(
            conn, session_id=claims.session_id, user_id=claims.user_id
        )
    # The old cookie, replayed, is a login page again; as a bearer token the API refuses it too.
    console.client.cookies.set("telecare_console", token, path="/console")
    again = await console.client.get("/console/board")
    assert again.status_code == 303 and again.headers["location"].startswith("/console/login")
    api = await console.client.get("/v1/alerts", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 401


async def test_a_page_without_a_login_goes_to_the_login_page_and_back(console: Console) -> None:
    home = console.world.a.home
    response = await console.client.get(f"/console/homes/{home}?day=2026-11-02")
    assert response.status_code == 303
    assert response.headers["location"] == f"/console/login?next=/console/homes/{home}%3Fday%3D2026-11-02"
    htmx = await console.client.get("/console/board/alerts", headers={"HX-Request": "true"})
    assert htmx.status_code == 401 and htmx.headers["hx-redirect"].startswith("/console/login")
    form = await console.client.get("/console/login", params={"next": "https://evil.example/"})
    assert 'name="next" value="/console/"' in form.text
