"""Signing in and out of the console: sessions in PostgreSQL, cookies, CSRF, throttling."""

from __future__ import annotations

import re
from datetime import timedelta

import asyncpg
import httpx

from arrears.people.users import disable_user
from tests.arrears.console.conftest import PASSWORD, Clock, Console, csrf_token, user_id

FIRST_SCREENS = {  # the issue: the manager's first screen is the book, etc.
    "collector": "/worklists",
    "supervisor": "/worklists",
    "manager": "/book",
    "auditor": "/audit",
}


def _without_tokens(html: str) -> str:
    return re.sub(r'value="[^"]*"', 'value=""', html)


async def _session_rows(pool: asyncpg.Pool) -> list[str]:
    async with pool.acquire() as conn:
        rows = await conn.fetch("SELECT row_to_json(s)::text AS row FROM console_sessions s")
    return [r["row"] for r in rows]


async def test_each_role_lands_on_its_first_screen_with_a_locked_down_cookie(
    console: Console,
) -> None:
    for role, screen in FIRST_SCREENS.items():
        client = console.client()
        response = await console.sign_in(client, user_id(role))
        assert response.status_code == 303
        assert response.headers["location"] == screen
        cookie = response.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie
        assert "secure" not in cookie  # plain http: the browser would drop a Secure cookie


async def test_behind_https_the_session_cookie_is_secure(console: Console) -> None:
    client = console.client()
    client.base_url = httpx.URL("https://console.test")
    response = await console.sign_in(client, user_id("manager"))
    assert "secure" in response.headers["set-cookie"].lower()


async def test_the_session_table_holds_no_usable_token(console: Console) -> None:
    client = await console.signed_in("supervisor")
    token = client.cookies["arrears_session"]
    rows = await _session_rows(console.services.pool)
    assert rows and not any(token in row for row in rows)


async def test_a_wrong_password_and_an_unknown_user_look_the_same(console: Console) -> None:
    wrong = await console.sign_in(console.client(), user_id("collector"), "not the password!")
    unknown = await console.sign_in(console.client(), "nobody-here", "not the password!")
    assert wrong.status_code == unknown.status_code == 401
    assert _without_tokens(wrong.text) == _without_tokens(unknown.text)
    assert "arrears_session" not in wrong.cookies


async def test_a_sign_in_without_the_forms_token_is_refused_and_opens_no_session(
    console: Console,
) -> None:
    client = console.client()
    await client.get("/login")
    response = await client.post(
        "/login", data={"username": user_id("manager"), "password": PASSWORD}
    )
    assert response.status_code == 403
    assert await _session_rows(console.services.pool) == []


async def test_five_failures_lock_the_user_for_fifteen_minutes(
    console: Console, clock: Clock
) -> None:
    for _ in range(5):
        await console.sign_in(console.client(), user_id("collector"), "wrong password..")
    locked = await console.sign_in(console.client(), user_id("collector"))
    assert locked.status_code == 401  # even the right password, while locked
    clock.advance(timedelta(minutes=14))
    assert (await console.sign_in(console.client(), user_id("collector"))).status_code == 401
    clock.advance(timedelta(minutes=2))
    assert (await console.sign_in(console.client(), user_id("collector"))).status_code == 303


async def test_five_failures_from_one_address_lock_that_address_only(
    console: Console, clock: Clock
) -> None:
    for n in range(5):
        await console.sign_in(console.client("10.0.0.9"), f"guess-{n}", "wrong password..")
    from_there = await console.sign_in(console.client("10.0.0.9"), user_id("manager"))
    elsewhere = await console.sign_in(console.client("10.0.0.10"), user_id("manager"))
    assert from_there.status_code == 401
    assert elsewhere.status_code == 303


async def test_signing_out_needs_the_forms_token_and_then_ends_the_session(
    console: Console,
) -> None:
    client = await console.signed_in("auditor")
    refused = await client.post("/logout", data={})
    assert refused.status_code == 403
    assert (await client.get("/")).headers["location"] == "/audit"  # still signed in
    token = await _csrf_of_session(console, client)
    out = await client.post("/logout", data={"csrf_token": token})
    assert out.status_code == 303 and out.headers["location"] == "/login"
    old = console.client()
    old.cookies.set("arrears_session", client.cookies.get("arrears_session") or "stale")
    assert (await old.get("/")).headers["location"] == "/login"


async def _csrf_of_session(console: Console, client: httpx.AsyncClient) -> str:
    """The session's CSRF token, read from a page that the signed-in user is shown."""
    response = await client.get("/", follow_redirects=True)
    return csrf_token(response.text)


async def test_an_idle_session_expires(console: Console, clock: Clock) -> None:
    client = await console.signed_in("supervisor")
    clock.advance(timedelta(minutes=29))
    assert (await client.get("/")).headers["location"] == "/worklists"  # used: stays alive
    clock.advance(timedelta(minutes=31))
    assert (await client.get("/")).headers["location"] == "/login"


async def test_disabling_a_user_ends_their_sessions(console: Console, clock: Clock) -> None:
    client = await console.signed_in("collector")
    async with console.services.pool.acquire() as conn:
        await disable_user(conn, user_id("collector"), clock())
    assert (await client.get("/")).headers["location"] == "/login"
    again = await console.sign_in(console.client(), user_id("collector"))
    assert again.status_code == 401


async def test_a_chosen_language_stays_with_the_user_and_the_browser(console: Console) -> None:
    client = await console.signed_in("auditor")  # cn-card: Chinese unless chosen otherwise
    assert 'lang="zh-CN"' in (await client.get("/audit")).text
    token = await _csrf_of_session(console, client)
    await client.post("/language", data={"csrf_token": token, "language": "en"})
    assert 'lang="en"' in (await client.get("/audit")).text
    again = await console.signed_in("auditor")  # another browser: the user's choice
    assert 'lang="en"' in (await again.get("/audit")).text
    token = await _csrf_of_session(console, client)
    await client.post("/logout", data={"csrf_token": token})
    assert 'lang="en"' in (await client.get("/login")).text  # this browser remembers
