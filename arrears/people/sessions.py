"""Console sessions, kept server-side in PostgreSQL so that they can be ended at once
(sign-out, a disabled user, a new password) and expire when idle.

The browser holds a random token; the table holds only its sha256, so a read of the
table (or of a backup) gives no session anyone can use. A token has 256 bits of
randomness, so a plain, unsalted digest is enough: nobody can guess their way back.
Each session also has its own CSRF token, which every form of the console carries.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import NamedTuple

from pydantic import BaseModel, ConfigDict

from arrears.people.users import User, user_of
from arrears.store.db import Conn

#: Bytes of randomness in a session token and in a CSRF token.
TOKEN_BYTES = 32


class NewSession(NamedTuple):
    """What the browser gets when a session opens (the only time the token is seen)."""

    token: str
    csrf_token: str


class SignedIn(BaseModel):
    """The person behind a valid session."""

    model_config = ConfigDict(frozen=True)

    user: User
    session_id: int
    csrf_token: str


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def open_session(conn: Conn, user_id: str, now: datetime) -> NewSession:
    session = NewSession(secrets.token_urlsafe(TOKEN_BYTES), secrets.token_urlsafe(TOKEN_BYTES))
    await conn.execute(
        """INSERT INTO console_sessions (token_sha256, user_id, csrf_token, created_at,
                                         last_seen_at)
           VALUES ($1, $2, $3, $4, $4)""",
        token_digest(session.token), user_id, session.csrf_token, now,
    )  # fmt: skip
    return session


async def find_session(conn: Conn, token: str, now: datetime, idle: timedelta) -> SignedIn | None:
    """The signed-in person, if `token` is an open session of an active user used within
    `idle`; it then counts as used now. None otherwise (an idle session is ended)."""
    row = await conn.fetchrow(
        """SELECT s.id AS session_id, s.csrf_token, s.last_seen_at, s.ended_at,
                  u.id, u.display_name, u.role, u.active, u.locale
           FROM console_sessions s JOIN users u ON u.id = s.user_id
           WHERE s.token_sha256 = $1""",
        token_digest(token),
    )
    if row is None or row["ended_at"] is not None or not row["active"]:
        return None
    if now - row["last_seen_at"] > idle:
        await conn.execute(
            """UPDATE console_sessions SET ended_at = $2, end_reason = 'idle'
               WHERE id = $1 AND ended_at IS NULL""",
            row["session_id"], now,
        )  # fmt: skip
        return None
    await conn.execute(
        "UPDATE console_sessions SET last_seen_at = greatest(last_seen_at, $2) WHERE id = $1",
        row["session_id"], now,
    )  # fmt: skip
    return SignedIn(user=user_of(row), session_id=row["session_id"], csrf_token=row["csrf_token"])


async def end_session(conn: Conn, token: str, now: datetime, reason: str = "signed_out") -> None:
    """End the session (nothing happens if it is unknown or already ended)."""
    await conn.execute(
        """UPDATE console_sessions SET ended_at = $2, end_reason = $3
           WHERE token_sha256 = $1 AND ended_at IS NULL""",
        token_digest(token), now, reason,
    )  # fmt: skip
