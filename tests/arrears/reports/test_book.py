"""`book`: the open cases at the end of the period by stage x bucket (conftest's book)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import asyncpg

from domain.events import CaseClosed
from tests.arrears.reports.conftest import RunReport, noon
from tests.book_cases import Story


def _row(stage: str, bucket: str, cases: int, principal: str, interest: str, fees: str) -> dict:
    p, i, f = Decimal(principal), Decimal(interest), Decimal(fees)
    return {"stage": stage, "bucket": bucket, "cases": cases, "principal": p, "interest": i,
            "fees": f, "total": p + i + f}  # fmt: skip


async def test_the_book_at_the_end_of_january_has_every_case_but_the_one_cured(
    small_book: dict[str, Story], report: RunReport
) -> None:
    # 31 Jan: A 1000, B 2000, C 500, D 700 in phone M1; E cured on 25 Jan.
    book = await report("book", date(2026, 1, 1), date(2026, 1, 31))
    assert book.rows == [_row("phone", "M1", 4, "4200.00", "0.00", "0.00")]
    assert book.totals == {"cases": 4, "principal": Decimal("4200.00"),
                           "interest": Decimal("0.00"), "fees": Decimal("0.00"),
                           "total": Decimal("4200.00")}  # fmt: skip


async def test_the_book_at_the_end_of_march_by_stage_and_bucket(
    small_book: dict[str, Story], report: RunReport
) -> None:
    # 31 Mar: A letter M2 (700 + 60 + 40), C outsourcing M3 (300 + 20), D written off,
    # B and E cured. Stages in the ladder's order.
    book = await report("book", date(2026, 3, 1), date(2026, 3, 31))
    assert book.rows == [
        _row("letter", "M2", 1, "700.00", "60.00", "40.00"),
        _row("outsourcing", "M3", 1, "300.00", "20.00", "0.00"),
    ]
    assert book.totals["total"] == Decimal("1120.00")


async def test_the_period_ends_at_the_banks_midnight(
    small_book: dict[str, Story], report: RunReport
) -> None:
    # E is cured at noon on 25 Jan (Shanghai): still open at the end of the 24th.
    before = await report("book", date(2026, 1, 1), date(2026, 1, 24))
    assert before.totals["cases"] == 5


async def test_a_past_period_gives_the_same_book_after_later_events(
    pool: asyncpg.Pool, small_book: dict[str, Story], report: RunReport
) -> None:
    march = await report("book", date(2026, 3, 1), date(2026, 3, 31))
    a = small_book["A"]
    a.then(CaseClosed, noon(4, 10), outcome="written_off").standing(
        noon(4, 10), outcome="written_off"
    )
    await a.store(pool)
    assert await report("book", date(2026, 3, 1), date(2026, 3, 31)) == march
    april = await report("book", date(2026, 4, 1), date(2026, 4, 30))
    assert [r["stage"] for r in april.rows] == ["outsourcing"]


async def test_the_book_keeps_the_chosen_policy_and_arm(
    small_book: dict[str, Story], report: RunReport
) -> None:
    # 31 Jan: D is the only us-reg-f case; the challengers are D and E (E cured).
    us = await report("book", date(2026, 1, 1), date(2026, 1, 31), policy="us-reg-f")
    assert us.totals["cases"] == 1 and us.totals["principal"] == Decimal("700.00")
    challenger = await report("book", date(2026, 1, 1), date(2026, 1, 31), arm="challenger")
    assert challenger.totals["cases"] == 1
    champion = await report("book", date(2026, 1, 1), date(2026, 1, 31), arm="champion")
    assert champion.totals["principal"] == Decimal("3500.00")
    both = await report("book", date(2026, 1, 1), date(2026, 1, 31), "cn-card", "challenger")
    assert both.rows == []
