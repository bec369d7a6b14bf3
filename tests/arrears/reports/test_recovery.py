"""`recovery` on conftest's small book, plus two placements of its own, by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import asyncpg

from domain.events import Placed, Recalled
from tests.arrears.reports.conftest import RunReport, noon
from tests.book_cases import Story, store_all

Q1 = (date(2026, 1, 1), date(2026, 3, 31))


def _placed(story: Story, day: int, balance: str | None) -> Story:
    return story.then(
        Placed, noon(3, day), agency="AG2", hand="second", commission_rate="0.10",
        term_ends=noon(6, day), **({"balance": balance} if balance else {}),
    )  # fmt: skip


async def _more_placements(pool: asyncpg.Pool) -> None:
    """F: placed 1 Mar (balance 1000), pays 150 with 50 unapplied on 5 Mar, recalled on
    10 Mar, pays 70 on 15 Mar. G: placed 2 Mar without a recorded balance, pays 30 on
    6 Mar. Neither ever changed stage (reminder)."""
    f = _placed(Story("F", opened_at=noon(2, 25)), 1, "1000.00").paid(noon(3, 5), "150.00", "50.00")
    f.then(Recalled, noon(3, 10), agency="AG2", hand="second", reason="test")
    f.paid(noon(3, 15), "70.00")
    g = _placed(Story("G", opened_at=noon(2, 25)), 2, None).paid(noon(3, 6), "30.00")
    await store_all(pool, f, g)


def _stage(month: str, stage: str, amount: str) -> tuple:
    return ("stage", month, stage, None, None, Decimal(amount))


async def test_collected_by_month_and_stage_is_every_payment_of_the_period(
    small_book: dict[str, Story], report: RunReport
) -> None:
    # E 400 (phone, Jan); B 2000 (phone, Feb); A 300 (letter, Feb); C 200 (outsourcing).
    recovery = await report("recovery", *Q1)
    rows = [r for r in recovery.rows if r["section"] == "stage"]
    assert [(r["section"], r["month"], r["stage"], r["agency"], r["hand"], r["collected"])
            for r in rows] == [
        _stage("2026-01", "phone", "400.00"),
        _stage("2026-02", "phone", "2000.00"),
        _stage("2026-02", "letter", "300.00"),
        _stage("2026-03", "outsourcing", "200.00"),
    ]  # fmt: skip
    assert recovery.totals["collected"] == Decimal("2900.00")


async def test_agencies_and_vintages_count_payments_while_placed_only(
    pool: asyncpg.Pool, small_book: dict[str, Story], report: RunReport
) -> None:
    await _more_placements(pool)
    recovery = await report("recovery", *Q1)
    by_agency = [(r["agency"], r["hand"], r["agency_collected"])
                 for r in recovery.rows if r["section"] == "agency"]  # fmt: skip
    # AG1: C's 200. AG2: F's 100 applied before the recall, G's 30; F's 70 after it is not.
    assert by_agency == [("AG1", "first", Decimal("200.00")), ("AG2", "second", Decimal("130.00"))]
    (vintage,) = [r for r in recovery.rows if r["section"] == "vintage"]
    # C (520, 200 collected) and F (1000, 100 while placed); G's balance is unknown.
    counts = (vintage["month"], vintage["placements"], vintage["balance_unknown"])
    assert counts == ("2026-03", 3, 1)
    assert (vintage["placed_balance"], vintage["placed_collected"]) == (
        Decimal("1520.00"), Decimal("300.00")
    )  # fmt: skip
    assert round(vintage["liquidation_rate"], 12) == round(Decimal(300) / 1520, 12)
    stages = {(r["month"], r["stage"]): r["collected"] for r in recovery.rows
              if r["section"] == "stage" and r["month"] == "2026-03"}  # fmt: skip
    assert stages == {("2026-03", "reminder"): Decimal("200.00"),
                      ("2026-03", "outsourcing"): Decimal("200.00")}  # fmt: skip
    assert recovery.totals["collected"] == Decimal("3100.00")
    # Received is every payment whole: F's 150 (50 of it beyond what F owed), 70, G's 30
    # in March, beside the 2900 of the small book; collected leaves the 50 out.
    (reminder,) = [r for r in recovery.rows if r["section"] == "stage" and r["stage"] == "reminder"]
    assert (reminder["received"], reminder["unapplied"]) == (Decimal("250.00"), Decimal("50.00"))
    assert (recovery.totals["received"], recovery.totals["unapplied"]) == (
        Decimal("3150.00"), Decimal("50.00")
    )  # fmt: skip


async def test_recovery_keeps_the_chosen_arm(
    small_book: dict[str, Story], report: RunReport
) -> None:
    recovery = await report("recovery", *Q1, arm="challenger")  # E's 400
    assert [(r["section"], r["collected"]) for r in recovery.rows] == [("stage", Decimal("400.00"))]
