"""`roll-rates` on conftest's small book, worked out by hand from its stories."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import asyncpg

from domain.events import BucketChanged
from tests.arrears.reports.conftest import RunReport, noon
from tests.book_cases import Story

Q1 = (date(2026, 1, 1), date(2026, 3, 31))


def _cell(month: str, frm: str, to: str, cases: int, balance: str, of_cases: int,
          of_balance: str) -> dict:  # fmt: skip
    return {
        "month": month, "from_bucket": frm, "to_bucket": to, "cases": cases,
        "balance": Decimal(balance), "cases_share": Decimal(cases) / of_cases,
        "balance_share": Decimal(balance) / Decimal(of_balance),
    }  # fmt: skip


def _close(row: dict, expected: dict) -> bool:
    return all(
        abs(row[k] - expected[k]) < Decimal("1e-15") if "share" in k else row[k] == expected[k]
        for k in expected
    )


async def test_each_month_rolls_the_previous_month_ends_open_cases(
    small_book: dict[str, Story], report: RunReport
) -> None:
    # January: nothing was open at the end of December. February, from 31 Jan (all M1):
    # A 1000, C 500, D 700 to M2; B 2000 cured. March, from 28 Feb (all M2): A (800 with
    # interest and fees) stays M2, C 500 to M3, D 700 written off.
    rolls = await report("roll-rates", *Q1)
    expected = [
        _cell("2026-02", "M1", "M2", 3, "2200.00", 4, "4200.00"),
        _cell("2026-02", "M1", "cured", 1, "2000.00", 4, "4200.00"),
        _cell("2026-03", "M2", "M2", 1, "800.00", 3, "2000.00"),
        _cell("2026-03", "M2", "M3", 1, "500.00", 3, "2000.00"),
        _cell("2026-03", "M2", "written_off", 1, "700.00", 3, "2000.00"),
    ]
    assert len(rolls.rows) == len(expected)
    assert all(_close(row, want) for row, want in zip(rolls.rows, expected, strict=True))


async def test_each_rows_shares_sum_to_one(small_book: dict[str, Story], report: RunReport) -> None:
    rows = (await report("roll-rates", *Q1)).rows
    for month, frm in {(r["month"], r["from_bucket"]) for r in rows}:
        cells = [r for r in rows if (r["month"], r["from_bucket"]) == (month, frm)]
        for share in ("cases_share", "balance_share"):
            assert abs(sum(r[share] for r in cells) - 1) < Decimal("1e-15")


async def test_only_month_ends_inside_the_period_are_rolled(
    small_book: dict[str, Story], report: RunReport
) -> None:
    # 1 Feb .. 30 Mar: March ends after the period, so only February is rolled.
    rolls = await report("roll-rates", date(2026, 2, 1), date(2026, 3, 30))
    assert {r["month"] for r in rolls.rows} == {"2026-02"}


async def test_past_month_ends_do_not_move_when_later_events_arrive(
    pool: asyncpg.Pool, small_book: dict[str, Story], report: RunReport
) -> None:
    before = await report("roll-rates", *Q1)
    a = small_book["A"]
    a.then(BucketChanged, noon(4, 5), bucket="M3", previous="M2", dpd=94,
           oldest_unpaid_due_date=None)  # fmt: skip
    await a.standing(noon(4, 5), bucket="M3", dpd=94).store(pool)
    assert await report("roll-rates", *Q1) == before
    april = await report("roll-rates", date(2026, 4, 1), date(2026, 4, 30))
    assert [(r["from_bucket"], r["to_bucket"], r["cases"]) for r in april.rows] == [
        ("M2", "M3", 1),  # A
        ("M3", "M3", 1),  # C
    ]


async def test_roll_rates_keep_the_chosen_policy(
    small_book: dict[str, Story], report: RunReport
) -> None:
    rolls = await report("roll-rates", *Q1, policy="us-reg-f")  # D alone
    assert [(r["month"], r["from_bucket"], r["to_bucket"], r["cases"]) for r in rolls.rows] == [
        ("2026-02", "M1", "M2", 1),
        ("2026-03", "M2", "written_off", 1),
    ]
