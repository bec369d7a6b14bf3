"""Champion and challenger side by side (`compared`): rows of both arms in the report's
order, blanks kept blank, differences challenger minus champion."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from arrears.reports.run import Report, Value
from arrears.simulate.arms_compared import compared

COLUMNS = (("month", "text"), ("stage", "text"), ("collected", "money"), ("placed", "int"))


def report(arm: str, rows: list[dict[str, Value]]) -> Report:
    return Report(
        report="recovery", title="Recovery", date_from=date(2026, 1, 1),
        date_to=date(2026, 3, 31), generated_at=datetime(2026, 4, 1, tzinfo=UTC),
        policy=None, arm=arm, columns=COLUMNS, rows=rows, totals={},
    )  # fmt: skip


def row(month: str, stage: str, collected: str | None, placed: int | None) -> dict[str, Value]:
    money = None if collected is None else Decimal(collected)
    return {"month": month, "stage": stage, "collected": money, "placed": placed}


def test_a_row_only_the_challenger_has_sits_where_the_challenger_has_it() -> None:
    champion = report("champion", [row("01", "letter", "10.00", None),
                                   row("02", "letter", "5.00", None),
                                   row("02", "legal", "7.00", None)])  # fmt: skip
    challenger = report("challenger", [row("01", "letter", "4.00", None),
                                       row("02", "visit", "3.00", None),
                                       row("02", "legal", "1.00", None),
                                       row("03", "legal", "2.00", None)])  # fmt: skip

    both = compared(champion, challenger)

    assert [(r["month"], r["stage"]) for r in both.rows] == [
        ("01", "letter"), ("02", "letter"), ("02", "visit"), ("02", "legal"), ("03", "legal"),
    ]  # fmt: skip
    visit = both.rows[2]
    assert (visit["collected champion"], visit["collected challenger"]) == (0, Decimal("3.00"))
    assert visit["collected difference"] == Decimal("3.00")


def test_a_figure_blank_in_both_arms_stays_blank_and_blank_in_one_counts_as_zero() -> None:
    champion = report("champion", [row("01", "letter", "10.00", None),
                                   row("01", "placed", None, 4)])  # fmt: skip
    challenger = report("challenger", [row("01", "letter", "4.00", 2),
                                       row("01", "placed", None, 1)])  # fmt: skip

    letter, placed = compared(champion, challenger).rows

    assert placed["collected champion"] is None
    assert placed["collected challenger"] is None
    assert placed["collected difference"] is None
    assert placed["placed difference"] == -3
    assert (letter["placed champion"], letter["placed difference"]) == (0, 2)
    assert letter["collected difference"] == Decimal("-6.00")
