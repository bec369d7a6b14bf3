"""The promises report (promises made / kept / broken, promised vs paid, installment
plans) month by month, on a small book worked out by hand below, on a real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import asyncpg
import pytest

from domain.events import (
    PlanAgreed,
    PlanBroken,
    PlanCompleted,
    PromiseBroken,
    PromiseKept,
    PromiseMade,
)
from tests.arrears.reports.conftest import RunReport
from tests.arrears.reports.report_story import CN_CHAMPION, bank_time, report_json, story
from tests.book_cases import Story, store_all

APR_1, MAY_31 = date(2026, 4, 1), date(2026, 5, 31)


def promised(s: Story, day: date, amount: str) -> Story:
    at = bank_time(day)
    return s.then(PromiseMade, at, amount=Decimal(amount), due=day + timedelta(days=7),
                  pause_until=at + timedelta(days=8))  # fmt: skip


def plan(s: Story, at: datetime) -> Story:
    return s.then(PlanAgreed, at, installments=3, installment_amount=Decimal("100.00"),
                  first_due=at.date() + timedelta(days=30))  # fmt: skip


@pytest.fixture
async def book(pool: asyncpg.Pool) -> asyncpg.Pool:
    p1 = promised(story("p1"), date(2026, 4, 10), "300.00")
    p1.then(PromiseKept, bank_time(date(2026, 5, 5)), amount=Decimal("300.00"),
            paid=Decimal("300.00"))  # fmt: skip
    # Broken at 01:00 on 1 May in Shanghai (30 April in UTC): May's.
    p2 = promised(story("p2"), date(2026, 4, 20), "200.00")
    p2.then(PromiseBroken, datetime(2026, 4, 30, 17, tzinfo=UTC), amount=Decimal("200.00"),
            paid=Decimal("50.00"))  # fmt: skip
    # Made in May, not due before the period ends; then a plan started and broken in May.
    p3 = promised(story("p3"), date(2026, 5, 20), "150.00")
    plan(p3, bank_time(date(2026, 5, 21)))
    p3.then(PlanBroken, bank_time(date(2026, 5, 28)), number=1, paid=Decimal("0.00"),
            due=Decimal("100.00"))  # fmt: skip
    # Agreed at 23:00 on 31 March in Shanghai (before the period), completed in April.
    p4 = plan(story("p4"), datetime(2026, 3, 31, 15, tzinfo=UTC))
    p4.then(PlanCompleted, bank_time(date(2026, 4, 25)))
    other = promised(story("o1", policy="hk-card"), date(2026, 4, 5), "100.00")
    chal = promised(story("c1", arm="challenger"), date(2026, 4, 6), "70.00")
    chal.then(PromiseKept, bank_time(date(2026, 5, 3)), amount=Decimal("70.00"),
              paid=Decimal("70.00"))  # fmt: skip
    await store_all(pool, p1, p2, p3, p4, other, chal)
    return pool


def month(name: str, **figures: object) -> dict[str, object]:
    """A month's row: zero unless `figures` says otherwise; money as Decimal."""
    row: dict[str, object] = {
        "month": name, "made": 0, "promised": Decimal("0"), "kept": 0, "broken": 0,
        "kept_rate": None, "due_amount": Decimal("0"), "paid": Decimal("0"),
        "plans_started": 0, "plans_completed": 0, "plans_broken": 0,
    }  # fmt: skip
    row.update({k: Decimal(v) if isinstance(v, str) else v for k, v in figures.items()})
    return row


async def test_promises_and_plans_count_in_the_bank_month_of_each_event(
    book: asyncpg.Pool, report: RunReport
) -> None:
    promises = await report("promises", APR_1, MAY_31, "cn-card", "champion")

    assert promises.rows == [
        month("2026-04", made=2, promised="500.00", plans_completed=1),
        month("2026-05", made=1, promised="150.00", kept=1, broken=1, kept_rate="0.5000",
              due_amount="500.00", paid="350.00", plans_started=1, plans_broken=1),
    ]  # fmt: skip
    assert promises.totals == {
        "made": 3, "kept": 1, "broken": 1, "plans_started": 1, "plans_completed": 1,
        "plans_broken": 1, "promised": Decimal("650.00"), "due_amount": Decimal("500.00"),
        "paid": Decimal("350.00"),
    }  # fmt: skip


async def test_a_month_without_events_is_a_row_of_zeros(
    book: asyncpg.Pool, report: RunReport
) -> None:
    rows = (await report("promises", date(2026, 2, 1), date(2026, 3, 31))).rows

    # The plan agreed on 31 March (Shanghai) is March's; February had nothing.
    assert rows == [month("2026-02"), month("2026-03", plans_started=1)]


async def test_every_policy_and_arm_count_when_none_is_chosen(
    book: asyncpg.Pool, report: RunReport
) -> None:
    rows = (await report("promises", APR_1, MAY_31)).rows

    assert [(r["month"], r["made"], r["promised"], r["kept"], r["kept_rate"]) for r in rows] == [
        ("2026-04", 4, Decimal("670.00"), 0, None),
        ("2026-05", 1, Decimal("150.00"), 2, Decimal("0.6667")),
    ]


async def test_arrears_report_promises_prints_months_and_totals_as_json(
    book: asyncpg.Pool, fresh_database_url: str
) -> None:
    out = await report_json(
        fresh_database_url, "promises", "--from", "2026-04-01", "--to", "2026-05-31", *CN_CHAMPION
    )

    assert [(r["month"], r["kept_rate"], r["paid"]) for r in out["rows"]] == [
        ("2026-04", None, "0.00"),
        ("2026-05", "0.5000", "350.00"),
    ]
    assert (out["totals"]["made"], out["totals"]["promised"]) == (3, "650.00")
