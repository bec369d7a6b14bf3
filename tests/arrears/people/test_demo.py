"""Demo users for `make run`: one per role, each password printed once."""

from __future__ import annotations

from arrears.people.demo import ensure_demo_users
from arrears.people.throttle import sign_in
from arrears.store.db import Conn
from tests.arrears.people.conftest import T0


async def test_one_demo_user_per_role_whose_password_signs_in_and_is_given_only_once(
    conn: Conn,
) -> None:
    first = await ensure_demo_users(conn, T0)
    again = await ensure_demo_users(conn, T0)

    assert [(user_id, role) for user_id, role, _ in first] == [
        ("demo-collector", "collector"),
        ("demo-supervisor", "supervisor"),
        ("demo-manager", "manager"),
        ("demo-auditor", "auditor"),
    ]
    assert len({password for _, _, password in first}) == 4  # random, one each
    for user_id, role, password in first:
        assert password is not None
        assert (await sign_in(conn, user_id, password, "127.0.0.1", T0)).role == role
    assert [password for _, _, password in again] == [None] * 4
