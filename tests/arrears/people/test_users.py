"""Users: added, listed, disabled, given new passwords; an override's actor is checked
against them."""

from __future__ import annotations

from datetime import timedelta

import asyncpg
import pytest

from arrears.errors import UsageError
from arrears.people.sessions import find_session, open_session
from arrears.people.throttle import SignInRefused, sign_in
from arrears.people.users import (
    DuplicateUser,
    UnknownUser,
    User,
    add_user,
    check_actor,
    disable_user,
    enable_user,
    get_user,
    list_users,
    set_locale,
    set_password,
)
from arrears.store.db import Conn
from tests.arrears.people.conftest import PASSWORD, T0

IDLE = timedelta(minutes=30)


async def test_an_added_user_is_active_listed_by_id_and_stored_without_the_password(
    conn: Conn,
) -> None:
    await add_user(conn, "s-2", "supervisor", "Li Wei", PASSWORD, T0)
    await add_user(conn, "c-7", "collector", None, PASSWORD, T0)

    assert await list_users(conn) == [
        User(id="c-7", name="c-7", role="collector", active=True, locale=None),
        User(id="s-2", name="Li Wei", role="supervisor", active=True, locale=None),
    ]
    stored = await conn.fetchval("SELECT password_hash FROM users WHERE id = 's-2'")
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


async def test_an_id_that_is_taken_is_refused_and_the_first_user_stays_as_it_was(
    conn: Conn,
) -> None:
    await add_user(conn, "s-2", "supervisor", "Li Wei", PASSWORD, T0)
    with pytest.raises(DuplicateUser, match="'s-2' exists already"):
        await add_user(conn, "s-2", "manager", "Someone else", PASSWORD + "x", T0)
    assert await get_user(conn, "s-2") == User(
        id="s-2", name="Li Wei", role="supervisor", active=True
    )


@pytest.mark.parametrize(
    ("user_id", "role", "password", "message"),
    [
        ("Zhang San", "collector", PASSWORD, "never a person's name"),
        ("c-1", "boss", PASSWORD, "role 'boss'"),
        ("c-1", "collector", "short", "at least 12 characters"),
    ],
)
async def test_bad_values_are_refused_and_nothing_is_stored(
    conn: Conn, user_id: str, role: str, password: str, message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        await add_user(conn, user_id, role, None, password, T0)
    assert await list_users(conn) == []


async def test_disabling_a_user_ends_every_open_session_and_refuses_the_next_sign_in(
    conn: Conn,
) -> None:
    await add_user(conn, "c-7", "collector", None, PASSWORD, T0)
    tokens = [(await open_session(conn, "c-7", T0)).token for _ in range(2)]

    disabled = await disable_user(conn, "c-7", T0 + timedelta(minutes=1))

    assert not disabled.active
    for token in tokens:
        assert await find_session(conn, token, T0 + timedelta(minutes=1), IDLE) is None
    reasons = await conn.fetch("SELECT end_reason FROM console_sessions")
    assert [r["end_reason"] for r in reasons] == ["user_disabled", "user_disabled"]
    with pytest.raises(SignInRefused) as refused:
        await sign_in(conn, "c-7", PASSWORD, "10.0.0.1", T0 + timedelta(minutes=2))
    assert refused.value.kind == "disabled"


async def test_an_enabled_user_signs_in_again(conn: Conn) -> None:
    await add_user(conn, "c-7", "collector", None, PASSWORD, T0)
    await disable_user(conn, "c-7", T0)
    await enable_user(conn, "c-7", T0)
    assert (await sign_in(conn, "c-7", PASSWORD, "10.0.0.1", T0)).id == "c-7"


async def test_a_new_password_replaces_the_old_one_and_ends_open_sessions(conn: Conn) -> None:
    await add_user(conn, "s-2", "supervisor", None, PASSWORD, T0)
    session = await open_session(conn, "s-2", T0)
    new_password = "a much longer new password"

    await set_password(conn, "s-2", new_password, T0)

    assert await find_session(conn, session.token, T0, IDLE) is None
    with pytest.raises(SignInRefused):
        await sign_in(conn, "s-2", PASSWORD, "10.0.0.1", T0)
    assert (await sign_in(conn, "s-2", new_password, "10.0.0.1", T0)).id == "s-2"


async def test_a_short_new_password_is_refused_and_the_old_one_still_works(conn: Conn) -> None:
    await add_user(conn, "s-2", "supervisor", None, PASSWORD, T0)
    with pytest.raises(UsageError, match="at least 12"):
        await set_password(conn, "s-2", "too short", T0)
    assert (await sign_in(conn, "s-2", PASSWORD, "10.0.0.1", T0)).id == "s-2"


async def test_changing_an_unknown_user_says_no_such_user(conn: Conn) -> None:
    for change in (
        disable_user(conn, "nobody", T0),
        set_password(conn, "nobody", PASSWORD, T0),
        set_locale(conn, "nobody", "zh_CN", T0),
    ):
        with pytest.raises(UnknownUser, match="no such user: 'nobody'"):
            await change


async def test_a_users_language_is_kept_and_can_go_back_to_the_profiles(conn: Conn) -> None:
    await add_user(conn, "c-7", "collector", None, PASSWORD, T0)
    assert (await set_locale(conn, "c-7", "zh_CN", T0)).locale == "zh_CN"
    assert (await set_locale(conn, "c-7", None, T0)).locale is None
    with pytest.raises(UsageError):
        await set_locale(conn, "c-7", "fr", T0)


async def test_an_actor_must_be_an_active_user_claiming_no_more_than_their_role(
    conn: Conn,
) -> None:
    await add_user(conn, "s-2", "supervisor", None, PASSWORD, T0)
    await add_user(conn, "m-1", "manager", None, PASSWORD, T0)
    await disable_user(conn, "m-1", T0)

    assert (await check_actor(conn, "s-2", "supervisor")).id == "s-2"
    assert (await check_actor(conn, "s-2", "collector")).id == "s-2"
    with pytest.raises(UsageError, match="'ghost' is not a user"):
        await check_actor(conn, "ghost", "collector")
    with pytest.raises(UsageError, match="'m-1' is disabled"):
        await check_actor(conn, "m-1", "manager")
    with pytest.raises(UsageError, match="above s-2's role \\(supervisor\\)"):
        await check_actor(conn, "s-2", "manager")


async def test_users_are_never_deleted_by_the_application_role(pool: asyncpg.Pool) -> None:
    grants = await pool.fetch(
        """SELECT privilege_type FROM information_schema.role_table_grants
           WHERE grantee = 'arrears_app' AND table_name = 'users'"""
    )
    assert {g["privilege_type"] for g in grants} == {"SELECT", "INSERT", "UPDATE"}
