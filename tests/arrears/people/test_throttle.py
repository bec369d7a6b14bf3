"""Signing in: five failures within fifteen minutes lock the user, or the address, for
fifteen minutes; every refusal says the same thing. Time moves by `now`, never by sleeping."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from arrears.people.throttle import SignInRefused, sign_in
from arrears.people.users import add_user
from arrears.store.db import Conn
from tests.arrears.people.conftest import PASSWORD, T0

WRONG = "not the password at all"
MINUTE = timedelta(minutes=1)


@pytest.fixture
async def collector(conn: Conn) -> str:
    await add_user(conn, "c-7", "collector", None, PASSWORD, T0)
    return "c-7"


async def refusal(
    conn: Conn, username: str, password: str, address: str, now: datetime
) -> SignInRefused:
    with pytest.raises(SignInRefused) as refused:
        await sign_in(conn, username, password, address, now)
    return refused.value


async def fail(conn: Conn, username: str, times: int, now: datetime, address: str) -> None:
    for n in range(times):
        await refusal(conn, username, WRONG, address, now + n * timedelta(seconds=10))


async def test_the_right_password_signs_in(conn: Conn, collector: str) -> None:
    user = await sign_in(conn, collector, PASSWORD, "10.0.0.1", T0)
    assert (user.id, user.role) == ("c-7", "collector")


async def test_a_wrong_password_and_an_unknown_user_get_the_very_same_message(
    conn: Conn, collector: str
) -> None:
    wrong = await refusal(conn, collector, WRONG, "10.0.0.1", T0)
    unknown = await refusal(conn, "nobody", WRONG, "10.0.0.2", T0)
    assert (wrong.kind, unknown.kind) == ("wrong_password", "unknown_user")
    assert str(wrong) == str(unknown)
    assert "nobody" not in str(unknown) and "c-7" not in str(wrong)


async def test_five_failures_lock_the_user_for_fifteen_minutes_from_any_address(
    conn: Conn, collector: str
) -> None:
    await fail(conn, collector, 4, T0, "10.0.0.1")
    fifth = T0 + 4 * timedelta(seconds=10)
    assert (await refusal(conn, collector, WRONG, "10.0.0.2", fifth)).kind == "wrong_password"

    locked = await refusal(conn, collector, PASSWORD, "10.0.0.3", fifth + 14 * MINUTE)
    assert locked.kind == "locked"  # even the right password, from another address
    assert str(locked) == str(await refusal(conn, "nobody", WRONG, "10.0.0.4", T0))
    assert (await sign_in(conn, collector, PASSWORD, "10.0.0.3", fifth + 15 * MINUTE)).id


async def test_four_failures_lock_nothing_and_a_success_clears_them(
    conn: Conn, collector: str
) -> None:
    await fail(conn, collector, 4, T0, "10.0.0.1")
    await sign_in(conn, collector, PASSWORD, "10.0.0.2", T0 + MINUTE)
    await fail(conn, collector, 4, T0 + 2 * MINUTE, "10.0.0.3")  # a fresh count: 4, not 8
    assert (await sign_in(conn, collector, PASSWORD, "10.0.0.4", T0 + 3 * MINUTE)).id


async def test_failures_further_apart_than_the_window_do_not_add_up(
    conn: Conn, collector: str
) -> None:
    await fail(conn, collector, 4, T0, "10.0.0.1")
    later = T0 + 16 * MINUTE
    await fail(conn, collector, 4, later, "10.0.0.1")
    assert (await sign_in(conn, collector, PASSWORD, "10.0.0.2", later + MINUTE)).id


async def test_five_failures_from_one_address_lock_that_address_only(
    conn: Conn, collector: str
) -> None:
    for n in range(5):  # five different ids: no user is locked, the address is
        await refusal(conn, f"guess-{n}", WRONG, "10.0.0.9", T0)

    from_there = await refusal(conn, collector, PASSWORD, "10.0.0.9", T0 + MINUTE)
    assert from_there.kind == "locked"
    assert (await sign_in(conn, collector, PASSWORD, "10.0.0.10", T0 + MINUTE)).id == collector
    assert (await sign_in(conn, collector, PASSWORD, "10.0.0.9", T0 + 16 * MINUTE)).id


async def test_attempts_while_locked_do_not_prolong_the_lock(conn: Conn, collector: str) -> None:
    await fail(conn, collector, 5, T0, "10.0.0.1")
    for minute in range(1, 15):
        await refusal(conn, collector, WRONG, "10.0.0.2", T0 + minute * MINUTE)
    assert (await sign_in(conn, collector, PASSWORD, "10.0.0.2", T0 + 16 * MINUTE)).id


async def test_what_a_stranger_types_as_a_username_is_never_stored(
    conn: Conn, collector: str
) -> None:
    await refusal(conn, "my secret password typed in the wrong field", WRONG, "10.0.0.1", T0)
    keys = [r["key"] for r in await conn.fetch("SELECT key FROM sign_in_throttle")]
    assert keys == ["addr:10.0.0.1"]


async def test_a_hash_made_with_old_parameters_is_replaced_at_the_next_sign_in(
    conn: Conn, collector: str
) -> None:
    from argon2 import PasswordHasher

    old = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    await conn.execute("UPDATE users SET password_hash = $1 WHERE id = $2", old, collector)
    await sign_in(conn, collector, PASSWORD, "10.0.0.1", T0)
    now_stored = await conn.fetchval("SELECT password_hash FROM users WHERE id = $1", collector)
    assert now_stored != old and now_stored.startswith("$argon2id$")
    assert (await sign_in(conn, collector, PASSWORD, "10.0.0.1", T0)).id == collector
