"""The personal-data access log: each time a person is shown a case's personal data
(the debtor's name, phones, addresses), who, in which role, which case, when, and what
part ("contact", "search"...: a word, never the data). The table is append-only; the
Audit page lists it."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from pydantic import BaseModel, ConfigDict

from arrears.errors import UsageError
from arrears.people.users import User
from arrears.store.db import Conn

#: The most rows one page of the log may ask for.
MAX_LIMIT: Final = 1000
_MAX_WHAT: Final = 64


class PersonalDataView(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    user_id: str
    role: str
    case_id: str
    viewed_at: datetime
    what: str


async def record_view(conn: Conn, user: User, case_id: str, what: str, now: datetime) -> int:
    """Record that `user` was shown `what` of `case_id`'s personal data; the row's id."""
    if not what or len(what) > _MAX_WHAT:
        raise UsageError(f"what was viewed must be a word of 1 to {_MAX_WHAT} characters")
    view_id = await conn.fetchval(
        """INSERT INTO personal_data_views (user_id, role, case_id, viewed_at, what)
           VALUES ($1, $2, $3, $4, $5) RETURNING id""",
        user.id, user.role, case_id, now, what,
    )  # fmt: skip
    return int(view_id)


def _where(
    actor: str | None, case_id: str | None, since: datetime | None, until: datetime | None
) -> tuple[str, list[Any]]:
    """The filters as a WHERE clause (`since` included, `until` excluded) and its values."""
    clauses: list[str] = []
    values: list[Any] = []
    for column, op, value in (
        ("user_id", "=", actor),
        ("case_id", "=", case_id),
        ("viewed_at", ">=", since),
        ("viewed_at", "<", until),
    ):
        if value is not None:
            values.append(value)
            clauses.append(f"{column} {op} ${len(values)}")
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", values


async def list_views(
    conn: Conn,
    *,
    actor: str | None = None,
    case_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[PersonalDataView]:
    """The log, newest first, filtered by user, case and time (`since` <= at < `until`)."""
    if not 1 <= limit <= MAX_LIMIT or offset < 0:
        raise UsageError(f"limit must be 1 to {MAX_LIMIT} and offset at least 0")
    where, values = _where(actor, case_id, since, until)
    rows = await conn.fetch(
        f"""SELECT id, user_id, role, case_id, viewed_at, what FROM personal_data_views{where}
            ORDER BY viewed_at DESC, id DESC
            LIMIT ${len(values) + 1} OFFSET ${len(values) + 2}""",
        *values, limit, offset,
    )  # fmt: skip
    return [PersonalDataView(**dict(row)) for row in rows]


async def count_views(
    conn: Conn,
    *,
    actor: str | None = None,
    case_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> int:
    """How many rows `list_views` has with these filters (for paging)."""
    where, values = _where(actor, case_id, since, until)
    return int(await conn.fetchval(f"SELECT count(*) FROM personal_data_views{where}", *values))
