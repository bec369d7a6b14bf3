"""Every override across the book (issue 14, page 5, the Audit page): applied and
rejected alike, from the `overrides` read model, filtered by actor, kind and a time
range, newest first, paged; and the same rows as CSV for export.

Overrides carry actor ids and roles, never names (`domain.events.Actor`), so the log and
its export hold no personal data beyond what the actor typed as a reason.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Final

from arrears.store.csv_export import csv_text
from arrears.store.db import Conn

MAX_EXPORT: Final = 100_000


@dataclass(frozen=True)
class OverrideFilter:
    actor: str | None = None
    kind: str | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive
    case_id: str | None = None


@dataclass(frozen=True)
class OverrideRow:
    at: datetime
    case_id: str
    seq: int
    kind: str
    actor_id: str
    role: str
    applied: bool
    reason: str
    message: str | None
    args: dict[str, Any]


@dataclass(frozen=True)
class OverridePage:
    rows: list[OverrideRow]
    total: int
    limit: int
    offset: int


def _where(f: OverrideFilter) -> tuple[str, list[Any]]:
    parts: list[str] = []
    args: list[Any] = []
    for condition, value in (
        ("actor_id = ${}", f.actor),
        ("kind = ${}", f.kind),
        ("at >= ${}", f.since),
        ("at < ${}", f.until),
        ("case_id = ${}", f.case_id),
    ):
        if value:
            args.append(value)
            parts.append(condition.format(len(args)))
    return (" WHERE " + " AND ".join(parts)) if parts else "", args


_COLUMNS = "at, case_id, seq, kind, actor_id, role, applied, reason, message, args"


async def override_log(
    conn: Conn, f: OverrideFilter = OverrideFilter(), *, limit: int = 50, offset: int = 0
) -> OverridePage:
    where, args = _where(f)
    n = len(args)
    rows = await conn.fetch(
        f"SELECT {_COLUMNS}, count(*) OVER () AS total FROM overrides{where}"
        f" ORDER BY at DESC, case_id, seq DESC LIMIT ${n + 1} OFFSET ${n + 2}",
        *args, limit, offset,
    )  # fmt: skip
    if rows:
        total = rows[0]["total"]
    else:
        total = await conn.fetchval(f"SELECT count(*) FROM overrides{where}", *args)
    found = [OverrideRow(**{k: v for k, v in r.items() if k != "total"}) for r in rows]
    return OverridePage(rows=found, total=total, limit=limit, offset=offset)


async def override_rows(conn: Conn, f: OverrideFilter = OverrideFilter()) -> list[OverrideRow]:
    """Every matching override (up to MAX_EXPORT), newest first: the export's rows."""
    page = await override_log(conn, f, limit=MAX_EXPORT)
    return page.rows


CSV_HEADER: Final = [field.name for field in fields(OverrideRow)]


def override_csv(rows: Iterable[OverrideRow]) -> str:
    """The rows as CSV with a header (`csv_export`: formula-safe cells, ISO times), the
    override's arguments as JSON."""
    return csv_text(
        CSV_HEADER,
        (
            [
                row.at, row.case_id, row.seq, row.kind, row.actor_id, row.role, row.applied,
                row.reason, row.message, json.dumps(row.args, sort_keys=True, ensure_ascii=False),
            ]
            for row in rows
        ),
    )  # fmt: skip
