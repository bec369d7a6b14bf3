"""Users of the console and of `arrears override`: who they are, what role they hold.

A user's id (`s-2`) is what an override records as its actor: an id, never a name (the
display name is only shown on screen). A user is never deleted, because overrides and the
personal-data access log name them for years; one who leaves is disabled, which also
ends every session they have open.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Final, Literal

import asyncpg
from pydantic import BaseModel, ConfigDict

from arrears.errors import UsageError
from arrears.people.passwords import hash_password
from arrears.store.db import Conn
from domain.authority import role_covers
from domain.policy import Role

__all__ = [
    "DuplicateUser",
    "UnknownUser",
    "User",
    "add_user",
    "check_actor",
    "disable_user",
    "enable_user",
    "get_user",
    "list_users",
    "role_covers",
    "set_locale",
    "set_password",
]

Locale = Literal["en", "zh_CN"]
ROLES: Final[tuple[Role, ...]] = ("collector", "supervisor", "manager", "auditor")
LOCALES: Final[tuple[Locale, ...]] = ("en", "zh_CN")
#: The same rule as the table's CHECK and as an override's actor id (at most 64).
_ID: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_MAX_NAME: Final = 200
_COLUMNS: Final = "id, display_name, role, active, locale"


class User(BaseModel):
    """A user as the application sees one: never the password hash."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    role: Role
    active: bool
    locale: Locale | None = None


class DuplicateUser(UsageError):
    """`add_user` with an id that is taken (exit code 2); nothing was changed."""

    def __init__(self, user_id: str) -> None:
        super().__init__(f"a user {user_id!r} exists already (ids are never reused)")


class UnknownUser(UsageError):
    """An id that names no user (exit code 2); nothing was changed."""

    def __init__(self, user_id: str) -> None:
        super().__init__(f"no such user: {user_id!r} (see `arrears users list`)")


def user_of(row: asyncpg.Record) -> User:
    return User(
        id=row["id"],
        name=row["display_name"],
        role=row["role"],
        active=row["active"],
        locale=row["locale"],
    )


def check_id(user_id: str) -> str:
    if not _ID.fullmatch(user_id):
        raise UsageError(
            f"user id {user_id!r}: 1 to 64 letters, digits, '.', '_' or '-' (an id such "
            "as s-2, never a person's name)"
        )
    return user_id


def check_role(role: str) -> Role:
    for known in ROLES:
        if role == known:
            return known
    raise UsageError(f"role {role!r}: use one of {', '.join(ROLES)}")


def _check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > _MAX_NAME or any(ord(c) < 32 for c in name):
        raise UsageError(f"the display name must be 1 to {_MAX_NAME} printable characters")
    return name


async def add_user(
    conn: Conn, user_id: str, role: str, name: str | None, password: str, now: datetime
) -> User:
    """A new active user; `DuplicateUser` if the id is taken, `UsageError` for bad values."""
    user_id = check_id(user_id)
    checked_role = check_role(role.strip().lower())
    display = _check_name(name if name is not None else user_id)
    password_hash = hash_password(password)
    try:
        row = await conn.fetchrow(
            f"""INSERT INTO users (id, display_name, role, active, password_hash, created_at,
                                   updated_at)
                VALUES ($1, $2, $3, true, $4, $5, $5)
                RETURNING {_COLUMNS}""",
            user_id, display, checked_role, password_hash, now,
        )  # fmt: skip
    except asyncpg.UniqueViolationError:
        raise DuplicateUser(user_id) from None
    assert row is not None
    return user_of(row)


async def list_users(conn: Conn) -> list[User]:
    rows = await conn.fetch(f"SELECT {_COLUMNS} FROM users ORDER BY id")
    return [user_of(row) for row in rows]


async def get_user(conn: Conn, user_id: str) -> User | None:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM users WHERE id = $1", user_id)
    return user_of(row) if row is not None else None


async def end_user_sessions(conn: Conn, user_id: str, now: datetime, reason: str) -> int:
    """End every open session of the user (how many were open)."""
    status = await conn.execute(
        """UPDATE console_sessions SET ended_at = $2, end_reason = $3
           WHERE user_id = $1 AND ended_at IS NULL""",
        user_id, now, reason,
    )  # fmt: skip
    return int(status.split()[-1])


async def _update(conn: Conn, user_id: str, assignments: str, *values: Any) -> User:
    """`UPDATE users SET <assignments>, updated_at = now` on one user; `UnknownUser` if none.
    `assignments` uses $3, $4, ... for `values` ($1 is the id, $2 the time)."""
    row = await conn.fetchrow(
        f"UPDATE users SET {assignments}, updated_at = $2 WHERE id = $1 RETURNING {_COLUMNS}",
        user_id, *values,
    )  # fmt: skip
    if row is None:
        raise UnknownUser(user_id)
    return user_of(row)


async def disable_user(conn: Conn, user_id: str, now: datetime) -> User:
    """The user may no longer sign in or be named as an actor; their sessions end now."""
    async with conn.transaction():
        user = await _update(conn, user_id, "active = false", now)
        await end_user_sessions(conn, user_id, now, "user_disabled")
    return user


async def enable_user(conn: Conn, user_id: str, now: datetime) -> User:
    """A disabled user may sign in again (with the password they had, or a new one)."""
    return await _update(conn, user_id, "active = true", now)


async def set_password(conn: Conn, user_id: str, password: str, now: datetime) -> User:
    """A new password (it must meet the rules); the user's open sessions end, so that a
    reset after a leak shuts out whoever used the old one."""
    password_hash = hash_password(password)
    async with conn.transaction():
        user = await _update(conn, user_id, "password_hash = $3", now, password_hash)
        await end_user_sessions(conn, user_id, now, "password_changed")
    return user


async def set_locale(conn: Conn, user_id: str, locale: str | None, now: datetime) -> User:
    """The user's language (`en`, `zh_CN`), or None to follow the policy profile's."""
    if locale is not None and locale not in LOCALES:
        raise UsageError(f"language {locale!r}: use one of {', '.join(LOCALES)}")
    return await _update(conn, user_id, "locale = $3", now, locale)


async def check_actor(conn: Conn, actor_id: str, role: str) -> User:
    """The user an override names as its actor, if they may act in `role`.

    `UsageError` (exit 2) saying why not: no such user, a disabled user, or a role above
    the one the user holds (`role_covers`). The case then judges the override itself
    against the claimed role's authority (POLICY §6).
    """
    user = await get_user(conn, actor_id.strip())
    if user is None:
        raise UsageError(f"--actor {actor_id!r} is not a user: add them with `arrears users add`")
    if not user.active:
        raise UsageError(f"--actor {user.id!r} is disabled")
    if not role_covers(user.role, role.strip().lower()):
        raise UsageError(
            f"--role {role!r} is above {user.id}'s role ({user.role}): a user may act in "
            "their own role or one below it"
        )
    return user
