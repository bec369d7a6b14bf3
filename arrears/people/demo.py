"""Demo users for `make run`: one per role, so that a new user of the project can sign in
to the console at once. Their passwords are random and printed once, when created."""

from __future__ import annotations

import secrets
from datetime import datetime

from arrears.people.users import ROLES, DuplicateUser, add_user, get_user
from arrears.store.db import Conn


def demo_id(role: str) -> str:
    return f"demo-{role}"


async def ensure_demo_users(conn: Conn, now: datetime) -> list[tuple[str, str, str | None]]:
    """(id, role, password) for each demo user; the password is None for one that existed
    already (its password was printed when it was made, and is not known any more)."""
    made: list[tuple[str, str, str | None]] = []
    for role in ROLES:
        user_id = demo_id(role)
        if await get_user(conn, user_id) is not None:
            made.append((user_id, role, None))
            continue
        password = secrets.token_urlsafe(12)  # 16 characters, 96 bits
        try:
            await add_user(conn, user_id, role, f"Demo {role}", password, now)
        except DuplicateUser:  # made meanwhile by another `make run`
            made.append((user_id, role, None))
            continue
        made.append((user_id, role, password))
    return made
