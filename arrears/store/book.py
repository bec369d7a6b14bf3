"""The Book's figures (issue 14, page 1): the manager's view of the whole book, no
personal data. Each figure is one set-based query over the read models; days are the
bank's days (its time zone), counted from event times, never from when rows were written.

- open cases by stage x bucket, with their balances;
- per day over the last `days` days: cases entering (opened), curing (closed `cured`)
  and closing (closed with any other outcome: settled, closed, written off);
- amount recovered since a day, by the stage and by the agency the case was with when
  the money came in (what was applied to the balance; unapplied credit is not recovery);
- contact attempts since a moment by channel x outcome.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from arrears.store.db import Conn
from domain.localtime import zone


@dataclass(frozen=True)
class Cell:
    stage: str
    bucket: str
    cases: int
    balance: Decimal


@dataclass(frozen=True)
class Day:
    day: date
    entering: int
    curing: int
    closing: int


@dataclass(frozen=True)
class Recovered:
    """`name` is a stage, or an agency (None: while no agency held the case)."""

    name: str | None
    amount: Decimal
    payments: int


@dataclass(frozen=True)
class Contacts:
    channel: str
    outcome: str
    attempts: int


@dataclass(frozen=True)
class Book:
    today: date
    open_cases: list[Cell]
    flow: list[Day]
    recovered_by_stage: list[Recovered]
    recovered_by_agency: list[Recovered]
    contacts: list[Contacts]

    @property
    def open_total(self) -> tuple[int, Decimal]:
        return (
            sum(c.cases for c in self.open_cases),
            sum((c.balance for c in self.open_cases), Decimal("0.00")),
        )


async def open_by_stage_bucket(conn: Conn) -> list[Cell]:
    rows = await conn.fetch(
        "SELECT stage, bucket, count(*) AS cases, sum(balance) AS balance FROM cases"
        " WHERE outcome IS NULL GROUP BY stage, bucket ORDER BY stage, bucket"
    )
    return [Cell(**r) for r in rows]


def day_start(day: date, timezone: str) -> datetime:
    """The first instant of the bank's `day`."""
    return datetime.combine(day, time(0), zone(timezone))


async def flow_per_day(conn: Conn, *, today: date, timezone: str, days: int = 30) -> list[Day]:
    """Every one of the `days` bank days up to `today`, empty days included."""
    first = today - timedelta(days=days - 1)
    rows = await conn.fetch(
        """WITH span AS (SELECT generate_series($1::date, $2::date, interval '1 day')::date AS day),
           opened AS (SELECT (opened_at AT TIME ZONE $5)::date AS day, count(*) AS n
                      FROM case_worklist WHERE opened_at >= $3 AND opened_at < $4 GROUP BY 1),
           ended AS (SELECT (closed_at AT TIME ZONE $5)::date AS day,
                            count(*) FILTER (WHERE outcome = 'cured') AS cured,
                            count(*) FILTER (WHERE outcome <> 'cured') AS other
                     FROM case_worklist WHERE closed_at >= $3 AND closed_at < $4 GROUP BY 1)
           SELECT span.day, coalesce(opened.n, 0) AS entering, coalesce(ended.cured, 0) AS curing,
                  coalesce(ended.other, 0) AS closing
           FROM span LEFT JOIN opened USING (day) LEFT JOIN ended USING (day) ORDER BY span.day""",
        first, today, day_start(first, timezone), day_start(today + timedelta(days=1), timezone),
        timezone,
    )  # fmt: skip
    return [Day(**r) for r in rows]


async def recovered(conn: Conn, *, since: date, by: str) -> list[Recovered]:
    """Money applied to balances from `since` (a bank day) on, by `stage` or `agency`."""
    column = {"stage": "stage", "agency": "agency"}[by]
    rows = await conn.fetch(
        f"SELECT {column} AS name, sum(amount - unapplied) AS amount, count(*) AS payments"
        f" FROM payments WHERE paid_on >= $1 GROUP BY {column}"
        " ORDER BY amount DESC, name NULLS LAST",
        since,
    )
    return [Recovered(**r) for r in rows]


async def contacts_by_channel_outcome(conn: Conn, *, since: datetime) -> list[Contacts]:
    rows = await conn.fetch(
        "SELECT channel, outcome, count(*) AS attempts FROM contact_attempts"
        " WHERE attempted_at >= $1 GROUP BY channel, outcome ORDER BY channel, outcome",
        since,
    )
    return [Contacts(**r) for r in rows]


async def book(conn: Conn, *, today: date, timezone: str, days: int = 30) -> Book:
    """Every figure of the Book page; the window is the last `days` bank days."""
    first = today - timedelta(days=days - 1)
    return Book(
        today=today,
        open_cases=await open_by_stage_bucket(conn),
        flow=await flow_per_day(conn, today=today, timezone=timezone, days=days),
        recovered_by_stage=await recovered(conn, since=first, by="stage"),
        recovered_by_agency=await recovered(conn, since=first, by="agency"),
        contacts=await contacts_by_channel_outcome(conn, since=day_start(first, timezone)),
    )
