"""Console sessions: found by their token, never stored as it, ended by sign-out or idleness."""

from __future__ import annotations

from datetime import timedelta

import pytest

from arrears.people.sessions import end_session, find_session, open_session
from arrears.people.users import add_user
from arrears.store.db import Conn
from tests.arrears.people.conftest import PASSWORD, T0

IDLE = timedelta(minutes=30)


@pytest.fixture
async def supervisor(conn: Conn) -> str:
    await add_user(conn, "s-2", "supervisor", "Li Wei", PASSWORD, T0)
    return "s-2"


async def test_a_new_session_is_found_by_its_token_with_its_user_and_csrf_token(
    conn: Conn, supervisor: str
) -> None:
    session = await open_session(conn, supervisor, T0)
    found = await find_session(conn, session.token, T0 + timedelta(minutes=1), IDLE)
    assert found is not None
    assert (found.user.id, found.user.role, found.csrf_token) == (
        "s-2",
        "supervisor",
        session.csrf_token,
    )


async def test_the_table_holds_neither_the_token_nor_anything_that_finds_the_session(
    conn: Conn, supervisor: str
) -> None:
    session = await open_session(conn, supervisor, T0)
    row = await conn.fetchval("SELECT row_to_json(s)::text FROM console_sessions s")
    assert session.token not in row
    stored_digest = await conn.fetchval("SELECT token_sha256 FROM console_sessions")
    assert await find_session(conn, stored_digest, T0, IDLE) is None


async def test_an_unknown_token_finds_nothing(conn: Conn, supervisor: str) -> None:
    await open_session(conn, supervisor, T0)
    assert await find_session(conn, "made-up-token", T0, IDLE) is None


async def test_a_session_used_within_the_idle_time_stays_open_and_an_idle_one_ends(
    conn: Conn, supervisor: str
) -> None:
    session = await open_session(conn, supervisor, T0)
    used = T0 + timedelta(minutes=29)
    assert await find_session(conn, session.token, used, IDLE) is not None
    # 29 minutes after the last use: still open, though 58 minutes after opening.
    assert await find_session(conn, session.token, used + timedelta(minutes=29), IDLE)
    idle_since = used + timedelta(minutes=29)
    assert (
        await find_session(conn, session.token, idle_since + IDLE + timedelta(seconds=1), IDLE)
        is None
    )
    # Ended for good: coming back within the idle time of the last use does not revive it.
    assert await find_session(conn, session.token, idle_since, IDLE) is None
    ended = await conn.fetchrow("SELECT ended_at, end_reason FROM console_sessions")
    assert ended["end_reason"] == "idle"


async def test_a_signed_out_session_is_gone_and_other_sessions_stay(
    conn: Conn, supervisor: str
) -> None:
    phone, desk = await open_session(conn, supervisor, T0), await open_session(conn, supervisor, T0)
    await end_session(conn, phone.token, T0)
    assert await find_session(conn, phone.token, T0, IDLE) is None
    assert await find_session(conn, desk.token, T0, IDLE) is not None
    reasons = await conn.fetch("SELECT end_reason FROM console_sessions ORDER BY id")
    assert [r["end_reason"] for r in reasons] == ["signed_out", None]
