"""Signing in, with repeated failures throttled per user and per address.

The rule: `MAX_FAILURES` failed sign-ins within `WINDOW` of the first one, for one user
(`user:<id>`) or from one address (`addr:<ip>`), lock that user or that address for
`LOCK` from the last of them. While locked, every attempt is refused, the right password
too, and is not counted (the lock ends `LOCK` after the failure that set it). A success
clears the user's failures, not the address's (one good password from an address that
is guessing does not reset its count).

Whatever went wrong, the refusal says the same thing, and costs the same time: an
unknown id is checked against a dummy hash, and a locked one is checked anyway. Only
ids that exist get a `user:` key, so what a stranger types in the username field (a
password, by mistake) is never stored.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final, Literal

from arrears.errors import ArrearsError
from arrears.people.passwords import DUMMY_HASH, needs_rehash, rehash, verify_password
from arrears.people.users import User, user_of
from arrears.store.db import Conn

#: Failed sign-ins that lock a user or an address ...
MAX_FAILURES: Final = 5
#: ... when they fall within this time of the first of them ...
WINDOW: Final = timedelta(minutes=15)
#: ... for this long after the last of them.
LOCK: Final = timedelta(minutes=15)

Refusal = Literal["unknown_user", "wrong_password", "disabled", "locked"]

#: The one message of every refusal.
REFUSED_MESSAGE: Final = "Sign-in failed, or too many attempts: try again later."


class SignInRefused(ArrearsError):
    """A refused sign-in. `kind` says why, for tests and the server's own records; the
    message never does (it must not tell whether the user exists)."""

    def __init__(self, kind: Refusal) -> None:
        super().__init__(REFUSED_MESSAGE)
        self.kind: Refusal = kind


def user_key(user_id: str) -> str:
    return f"user:{user_id}"


def address_key(address: str) -> str:
    return f"addr:{address}"


async def _locked(conn: Conn, keys: list[str], now: datetime) -> bool:
    locked = await conn.fetchval(
        """SELECT EXISTS (SELECT FROM sign_in_throttle
                          WHERE key = ANY($1) AND locked_until > $2)""",
        keys, now,
    )  # fmt: skip
    return bool(locked)


async def _count_failure(conn: Conn, keys: list[str], now: datetime) -> None:
    """One more failure on each key: a new window if the last one is over, a lock at the
    `MAX_FAILURES`th failure of a window. One statement per key, so concurrent sign-ins
    cannot lose a count."""
    for key in keys:
        await conn.execute(
            """INSERT INTO sign_in_throttle AS t (key, failures, window_started_at)
               VALUES ($1, 1, $2)
               ON CONFLICT (key) DO UPDATE SET
                 failures = CASE WHEN t.window_started_at <= $2::timestamptz - $3::interval THEN 1
                                 ELSE t.failures + 1 END,
                 window_started_at = CASE WHEN t.window_started_at <= $2::timestamptz - $3::interval
                                          THEN $2 ELSE t.window_started_at END,
                 locked_until = CASE WHEN t.window_started_at > $2::timestamptz - $3::interval
                                          AND t.failures + 1 >= $4
                                     THEN $2::timestamptz + $5::interval ELSE t.locked_until END""",
            key, now, WINDOW, MAX_FAILURES, LOCK,
        )  # fmt: skip


async def _forget_stale(conn: Conn, now: datetime) -> None:
    """Rows whose window and lock are both over count for nothing: drop them, so the
    table stays as small as the current attacks."""
    await conn.execute(
        """DELETE FROM sign_in_throttle
           WHERE window_started_at <= $1::timestamptz - $2::interval
             AND (locked_until IS NULL OR locked_until <= $1)""",
        now, WINDOW,
    )  # fmt: skip


async def sign_in(conn: Conn, username: str, password: str, address: str, now: datetime) -> User:
    """The user, if `username` and `password` are an active user's and neither the user
    nor the address is locked; `SignInRefused` otherwise (and the failure is counted)."""
    async with conn.transaction():
        await _forget_stale(conn, now)
        row = await conn.fetchrow(
            """SELECT id, display_name, role, active, locale, password_hash
               FROM users WHERE id = $1""",
            username,
        )
        keys = [address_key(address)] + ([user_key(row["id"])] if row is not None else [])
        locked = await _locked(conn, keys, now)
        matches = verify_password(row["password_hash"] if row else DUMMY_HASH, password)
        kind: Refusal | None = (
            "locked" if locked
            else "unknown_user" if row is None
            else "wrong_password" if not matches
            else "disabled" if not row["active"]
            else None
        )  # fmt: skip
        if kind not in (None, "locked"):  # attempts while locked do not prolong the lock
            await _count_failure(conn, keys, now)
    if kind is not None:  # raised once the count is committed
        raise SignInRefused(kind)
    assert row is not None
    await conn.execute("DELETE FROM sign_in_throttle WHERE key = $1", user_key(row["id"]))
    if needs_rehash(row["password_hash"]):  # argon2 parameters changed since it was set
        await conn.execute(
            "UPDATE users SET password_hash = $2 WHERE id = $1", row["id"], rehash(password)
        )
    return user_of(row)
