"""`arrears users ...`: the work behind the command's options (arrears/cli/users.py).

Every value is checked before PostgreSQL is asked (a bad id, role or password: one line,
exit 2, nothing changed); PostgreSQL down is one line and exit 3. A password is read
from stdin, one line, so that it never appears in a process list or a shell history.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TextIO, TypeVar

import asyncpg

from arrears.errors import ServiceUnavailable, UsageError
from arrears.people.passwords import check_rules
from arrears.people.users import (
    User,
    add_user,
    check_id,
    check_role,
    disable_user,
    enable_user,
    list_users,
    set_password,
)
from arrears.settings import Settings
from arrears.store.db import Conn, create_pool, redact_url

T = TypeVar("T")


def read_password(stream: TextIO | None = None) -> str:
    """The first line of stdin, without its line end; `UsageError` if empty or short."""
    line = (stream or sys.stdin).readline().removesuffix("\n").removesuffix("\r")
    if not line:
        raise UsageError("--password-stdin: no password on stdin (give it as one line)")
    check_rules(line)
    return line


async def on_database(work: Callable[[Conn], Awaitable[T]], url: str | None = None) -> T:
    """`work` on one connection to the configured database (or `url`); a missing table
    is exit 2 (run `arrears migrate`), PostgreSQL unreachable or gone is exit 3."""
    url = url or Settings().db_url
    pool = await create_pool(url, max_size=1)
    try:
        async with pool.acquire() as conn:
            return await work(conn)
    except asyncpg.UndefinedTableError:
        raise UsageError(
            f"the database at {redact_url(url)} has no users table: run `arrears migrate`"
        ) from None
    except (OSError, asyncpg.InterfaceError, asyncpg.PostgresConnectionError) as err:
        raise ServiceUnavailable(f"PostgreSQL at {redact_url(url)} went away: {err}") from None
    finally:
        await pool.close()


def _run(work: Callable[[Conn], Awaitable[T]]) -> T:
    return asyncio.run(on_database(work))


def _line(user: User) -> str:
    state = "active" if user.active else "disabled"
    return f"{user.id:<20} {user.role:<10} {state:<8} {user.locale or '-':<5} {user.name}"


def run_add(user_id: str, role: str, name: str | None, password_stdin: bool) -> str:
    check_id(user_id)
    check_role(role.strip().lower())
    if not password_stdin:
        raise UsageError("--password-stdin is required (the password is read from stdin)")
    password = read_password()
    now = datetime.now(UTC)
    user = _run(lambda conn: add_user(conn, user_id, role, name, password, now))
    return f"added {user.id} ({user.role})"


def run_list(as_json: bool) -> list[str]:
    users = _run(list_users)
    if as_json:
        return [json.dumps([user.model_dump() for user in users])]
    header = f"{'ID':<20} {'ROLE':<10} {'STATE':<8} {'LANG':<5} NAME"
    return [header, *map(_line, users)]


def run_disable(user_id: str) -> str:
    now = datetime.now(UTC)
    user = _run(lambda conn: disable_user(conn, user_id, now))
    return f"disabled {user.id}: their console sessions are ended"


def run_enable(user_id: str) -> str:
    now = datetime.now(UTC)
    user = _run(lambda conn: enable_user(conn, user_id, now))
    return f"enabled {user.id}"


def run_set_password(user_id: str, password_stdin: bool) -> str:
    if not password_stdin:
        raise UsageError("--password-stdin is required (the password is read from stdin)")
    password = read_password()
    now = datetime.now(UTC)
    user = _run(lambda conn: set_password(conn, user_id, password, now))
    return f"new password set for {user.id}: their console sessions are ended"
