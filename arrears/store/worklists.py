"""The worklists (issue 14, page 2): the open cases that need a person today, one list per
reason, from the `cases` row and the worklist read model (`case_worklist`, migration 0009).

Each list is one SQL condition; filters (stage, bucket, agency, policy profile), the sort
column (from a fixed set: never a caller's string in the SQL), paging and the total are
the same for every list. `today` (the bank's date) and `now` are given by the caller, so
a test sets them. A case is on a list while the fact holds; what takes it off:

- promises_due_today: a promise is open and due `today` (kept or broken: off);
- promises_broken: the case's last promise was broken, and no promise or plan since;
- installments_missed: the case's last plan broke on a missed installment, and no
  promise or plan since;
- open_disputes / cease_contact: the hold is on;
- legal_threshold: not yet in `legal`, the balance at or above the profile's legal
  threshold (POLICY §4) and the bucket at or past the one from which a supervisor may
  refer to legal (`legal.supervisor_referral_from_bucket`, M3): the cases a supervisor
  could send to legal today;
- terms_ending: placed with an agency whose term ends within 7 days from `now`;
- no_rpc_30d: no right-party contact (an attempt on the debtor that reached them:
  `domain.contact.is_right_party`) for 30 days, counted from the case's opening when it
  never had one; cease-contact cases are left out (nobody may call them).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Final

from arrears.store.db import Conn
from domain.policy import STAGES, LegalPolicy

TERM_WARNING: Final = timedelta(days=7)
RPC_SILENCE: Final = timedelta(days=30)


@dataclass(frozen=True)
class Worklist:
    #: The condition on `c` (cases) and `w` (case_worklist); `{today}`, `{now}`,
    #: `{term_end}`, `{rpc_before}` are filled with parameter references.
    where: str
    #: The list's own figure: what it is about (a due date, a breach time, ...).
    key: str
    #: The amount that goes with it, if any (promised, broken, ...).
    amount: str = "NULL::numeric"
    #: Needs the legal thresholds joined as `t`.
    legal: bool = False
    #: How the page sorts it unless told otherwise: (SORTS key, descending).
    default_sort: tuple[str, bool] = ("key", False)


WORKLISTS: Final[dict[str, Worklist]] = {
    "promises_due_today": Worklist(
        "w.promise_due = {today}",
        "w.promise_due",
        "w.promise_amount",
        default_sort=("balance", True),
    ),
    "promises_broken": Worklist(
        "w.promise_broken_at IS NOT NULL",
        "w.promise_broken_at",
        "w.promise_broken_amount",
        default_sort=("key", True),
    ),
    "installments_missed": Worklist(
        "w.plan_missed_at IS NOT NULL", "w.plan_missed_at", default_sort=("key", True)
    ),
    "open_disputes": Worklist("w.dispute_open", "NULL", default_sort=("balance", True)),
    "cease_contact": Worklist("w.cease_contact", "NULL", default_sort=("balance", True)),
    "legal_threshold": Worklist(
        "c.stage <> 'legal' AND c.balance >= t.threshold"
        " AND substring(c.bucket FROM '[0-9]+')::integer >= t.from_bucket",
        "NULL",
        "t.threshold",
        legal=True,
        default_sort=("balance", True),
    ),
    "terms_ending": Worklist("w.term_ends >= {now} AND w.term_ends < {term_end}", "w.term_ends"),
    "no_rpc_30d": Worklist(
        "coalesce(w.last_rpc_at, w.opened_at) < {rpc_before} AND NOT w.cease_contact",
        "w.last_rpc_at",
    ),
}

#: Sort keys a request may name -> the SQL they stand for.
SORTS: Final[dict[str, str]] = {
    "key": "key",
    "case": "c.case_id",
    "balance": "c.balance",
    "dpd": "c.dpd",
    "stage": f"array_position(ARRAY{list(STAGES)}::text[], c.stage)",
    "bucket": "c.bucket",
    "agency": "c.agency",
}


@dataclass(frozen=True)
class Filters:
    """Narrow a list to one stage, bucket, agency or policy profile (None: any)."""

    stage: str | None = None
    bucket: str | None = None
    agency: str | None = None
    policy: str | None = None


@dataclass(frozen=True)
class WorklistRow:
    case_id: str
    account_id: str
    policy: str
    stage: str
    bucket: str
    dpd: int
    balance: Decimal
    agency: str | None
    key: date | datetime | None
    amount: Decimal | None


@dataclass(frozen=True)
class WorklistPage:
    name: str
    rows: list[WorklistRow]
    total: int
    limit: int
    offset: int


class _Params:
    """Numbered parameters as the SQL is built, so only the ones used are sent."""

    def __init__(self) -> None:
        self.values: list[Any] = []

    def add(self, value: Any, cast: str = "") -> str:
        self.values.append(value)
        return f"${len(self.values)}{cast}"


def _legal_join(params: _Params, legal: Mapping[str, LegalPolicy]) -> str:
    names = list(legal)
    return (
        " JOIN unnest("
        f"{params.add(names, '::text[]')}, "
        f"{params.add([legal[n].threshold for n in names], '::numeric[]')}, "
        f"{params.add([legal[n].supervisor_referral_from_bucket for n in names], '::int[]')}"
        ") AS t(policy, threshold, from_bucket) ON t.policy = c.policy"
    )


def _filter_sql(params: _Params, filters: Filters) -> str:
    parts = []
    for column in ("stage", "bucket", "agency", "policy"):
        value = getattr(filters, column)
        if value:
            parts.append(f" AND c.{column} = {params.add(value)}")
    return "".join(parts)


def _condition(params: _Params, worklist: Worklist, *, today: date, now: datetime) -> str:
    refs: dict[str, str] = {}
    for name, value, cast in (
        ("today", today, "::date"),
        ("now", now, "::timestamptz"),
        ("term_end", now + TERM_WARNING, "::timestamptz"),
        ("rpc_before", now - RPC_SILENCE, "::timestamptz"),
    ):
        if "{" + name + "}" in worklist.where:
            refs[name] = params.add(value, cast)
    return worklist.where.format(**refs)


def _from_where(
    params: _Params,
    spec: Worklist,
    *,
    legal: Mapping[str, LegalPolicy],
    today: date,
    now: datetime,
    filters: Filters,
) -> str:
    join = _legal_join(params, legal) if spec.legal else ""
    where = _condition(params, spec, today=today, now=now) + _filter_sql(params, filters)
    return (
        f" FROM cases c JOIN case_worklist w USING (case_id){join}"
        f" WHERE c.outcome IS NULL AND {where}"
    )


async def worklist(
    conn: Conn,
    name: str,
    *,
    today: date,
    now: datetime,
    legal: Mapping[str, LegalPolicy],
    filters: Filters = Filters(),
    sort: str = "key",
    descending: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> WorklistPage:
    """One page of the list `name` (a key of WORKLISTS) and how many cases are on it.
    `legal`: each policy profile's legal section, by profile name (cases of a profile
    not given are never at its threshold)."""
    spec = WORKLISTS[name]
    order = SORTS[sort]

    def from_where(params: _Params) -> str:
        return _from_where(params, spec, legal=legal, today=today, now=now, filters=filters)

    params = _Params()
    direction = "DESC" if descending else "ASC"
    sql = (
        "SELECT c.case_id, c.account_id, c.policy, c.stage, c.bucket, c.dpd, c.balance,"
        f" c.agency, {spec.key} AS key, {spec.amount} AS amount, count(*) OVER () AS total"
        f"{from_where(params)}"
        f" ORDER BY {order} {direction} NULLS LAST, c.case_id"
        f" LIMIT {params.add(limit)} OFFSET {params.add(offset)}"
    )
    rows = await conn.fetch(sql, *params.values)
    if rows:
        total = rows[0]["total"]
    else:  # past the last page: count without the page
        params = _Params()
        sql = f"SELECT count(*){from_where(params)}"
        total = await conn.fetchval(sql, *params.values)
    found = [WorklistRow(**{k: v for k, v in r.items() if k != "total"}) for r in rows]
    return WorklistPage(name=name, rows=found, total=total, limit=limit, offset=offset)


async def worklist_counts(
    conn: Conn,
    *,
    today: date,
    now: datetime,
    legal: Mapping[str, LegalPolicy],
    filters: Filters = Filters(),
) -> dict[str, int]:
    """How many cases are on each list, in one pass over the open cases."""
    params = _Params()
    counts = ", ".join(
        f"count(*) FILTER (WHERE {_condition(params, spec, today=today, now=now)}) AS {name}"
        for name, spec in WORKLISTS.items()
    )
    join = _legal_join(params, legal).replace(" JOIN ", " LEFT JOIN ", 1)
    sql = (
        f"SELECT {counts} FROM cases c JOIN case_worklist w USING (case_id){join}"
        f" WHERE c.outcome IS NULL{_filter_sql(params, filters)}"
    )
    row = await conn.fetchrow(sql, *params.values)
    assert row is not None
    return {name: int(row[name]) for name in WORKLISTS}
