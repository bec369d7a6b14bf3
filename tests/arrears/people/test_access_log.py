"""The personal-data access log: who saw which case's personal data, when; append-only."""

from __future__ import annotations

from datetime import timedelta

import asyncpg
import pytest

from arrears.people.access_log import count_views, list_views, record_view
from arrears.people.users import User, add_user
from arrears.store.db import Conn
from tests.arrears.people.conftest import PASSWORD, T0

HOUR = timedelta(hours=1)


@pytest.fixture
async def people(conn: Conn) -> tuple[User, User]:
    collector = await add_user(conn, "c-7", "collector", None, PASSWORD, T0)
    auditor = await add_user(conn, "a-1", "auditor", None, PASSWORD, T0)
    return collector, auditor


async def test_views_are_listed_newest_first_with_who_their_role_which_case_and_what(
    conn: Conn, people: tuple[User, User]
) -> None:
    collector, auditor = people
    await record_view(conn, collector, "case-1", "contact", T0)
    await record_view(conn, auditor, "case-2", "contact", T0 + HOUR)

    views = await list_views(conn)

    assert [(v.user_id, v.role, v.case_id, v.viewed_at, v.what) for v in views] == [
        ("a-1", "auditor", "case-2", T0 + HOUR, "contact"),
        ("c-7", "collector", "case-1", T0, "contact"),
    ]


async def test_views_filter_by_actor_case_and_time_and_page(
    conn: Conn, people: tuple[User, User]
) -> None:
    collector, auditor = people
    for hour in range(5):
        await record_view(conn, collector, f"case-{hour % 2}", "contact", T0 + hour * HOUR)
    await record_view(conn, auditor, "case-0", "contact", T0 + 2 * HOUR)

    by_auditor = await list_views(conn, actor="a-1")
    assert [v.user_id for v in by_auditor] == ["a-1"]
    on_case = await list_views(conn, case_id="case-1")
    assert [v.viewed_at for v in on_case] == [T0 + 3 * HOUR, T0 + HOUR]
    between = await list_views(conn, actor="c-7", since=T0 + HOUR, until=T0 + 3 * HOUR)
    assert [v.viewed_at for v in between] == [T0 + 2 * HOUR, T0 + HOUR]
    second_page = await list_views(conn, actor="c-7", limit=2, offset=2)
    assert [v.viewed_at for v in second_page] == [T0 + 2 * HOUR, T0 + HOUR]
    assert await count_views(conn, actor="c-7") == 5
    assert await count_views(conn, case_id="case-0", since=T0 + HOUR) == 3  # 2h twice, 4h


async def test_the_log_refuses_changes_and_removal(conn: Conn, people: tuple[User, User]) -> None:
    await record_view(conn, people[0], "case-1", "contact", T0)
    for change in (
        "UPDATE personal_data_views SET user_id = 'a-1'",
        "DELETE FROM personal_data_views",
        "TRUNCATE personal_data_views",
    ):
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            await conn.execute(change)
    assert await count_views(conn) == 1


async def test_auditors_read_users_and_sessions_but_no_password_hash_or_session_secret(
    pool: asyncpg.Pool,
) -> None:
    rows = await pool.fetch(
        """SELECT table_name, column_name FROM information_schema.column_privileges
           WHERE grantee = 'arrears_auditor' AND privilege_type = 'SELECT'
             AND table_name IN ('users', 'console_sessions')"""
    )
    readable = {(r["table_name"], r["column_name"]) for r in rows}
    assert ("users", "role") in readable and ("console_sessions", "user_id") in readable
    for secret in (
        ("users", "password_hash"),
        ("console_sessions", "token_sha256"),
        ("console_sessions", "csrf_token"),
    ):
        assert secret not in readable
