"""`cure` on conftest's small book, worked out by hand from its stories."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from tests.arrears.reports.conftest import RunReport
from tests.book_cases import Story


def _row(bucket: str, entered: int, *windows: tuple[int, int]) -> dict:
    row: dict = {"bucket": bucket, "entered": entered}
    for n, (eligible, cured) in zip((30, 60, 90), windows, strict=True):
        row |= {f"eligible_{n}": eligible, f"cured_{n}": cured,
                f"share_{n}": Decimal(cured) / eligible if eligible else None}  # fmt: skip
    return row


def _rounded(rows: list[dict]) -> list[dict]:
    return [
        {k: round(v, 12) if isinstance(v, Decimal) else v for k, v in row.items()} for row in rows
    ]


async def test_the_first_quarter_judges_only_entries_with_the_days_to_be_judged(
    small_book: dict[str, Story], report: RunReport
) -> None:
    # M1 entries: D 3 Jan, A 5 Jan, E 8 Jan, C 20 Jan, B 10 Jan; E cured 17 days later,
    # B 36 days later. 90 days after 3 Jan is 3 Apr: no January entry has 90 days in
    # Q1. M2: D 3 Feb, A 5 Feb, C 20 Feb (30 days in Q1, not 60), none cured. M3: C on
    # 20 Mar, not 30 days before the end.
    cure = await report("cure", date(2026, 1, 1), date(2026, 3, 31))
    assert _rounded(cure.rows) == _rounded([
        _row("M1", 5, (5, 1), (5, 2), (0, 0)),
        _row("M2", 3, (3, 0), (0, 0), (0, 0)),
        _row("M3", 1, (0, 0), (0, 0), (0, 0)),
    ])  # fmt: skip
    assert cure.totals == {"entered": 9, "eligible_30": 8, "cured_30": 1, "eligible_60": 5,
                           "cured_60": 2, "eligible_90": 0, "cured_90": 0}  # fmt: skip


async def test_a_half_year_judges_every_entry_for_ninety_days(
    small_book: dict[str, Story], report: RunReport
) -> None:
    cure = await report("cure", date(2026, 1, 1), date(2026, 6, 30))
    assert _rounded(cure.rows) == _rounded([
        _row("M1", 5, (5, 1), (5, 2), (5, 2)),
        _row("M2", 3, (3, 0), (3, 0), (3, 0)),
        _row("M3", 1, (1, 0), (1, 0), (1, 0)),
    ])  # fmt: skip


async def test_only_entries_inside_the_period_count(
    small_book: dict[str, Story], report: RunReport
) -> None:
    # February and later: the M2 and M3 entries only, and no cure before the period.
    cure = await report("cure", date(2026, 2, 1), date(2026, 6, 30))
    assert [(r["bucket"], r["entered"], r["cured_90"]) for r in cure.rows] == [
        ("M2", 3, 0),
        ("M3", 1, 0),
    ]


async def test_cure_keeps_the_chosen_arm(small_book: dict[str, Story], report: RunReport) -> None:
    # Challengers: D (M1, M2; written off) and E (M1, cured after 17 days).
    cure = await report("cure", date(2026, 1, 1), date(2026, 6, 30), arm="challenger")
    assert [(r["bucket"], r["entered"], r["cured_30"]) for r in cure.rows] == [
        ("M1", 2, 1),
        ("M2", 1, 0),
    ]
