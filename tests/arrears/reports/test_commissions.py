"""The commissions report (an agency's invoice for a bank month) on a small book whose
every figure is worked out by hand below, on a real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import asyncpg
import pytest

from domain.events import CommissionEarned, PaymentReceived, Placed
from tests.arrears.reports.conftest import RunReport
from tests.arrears.reports.report_story import CN_CHAMPION, bank_time, report_json, story
from tests.book_cases import Story, store_all

MAY_1, MAY_31 = date(2026, 5, 1), date(2026, 5, 31)
RATES = {"first": Decimal("0.20"), "second": Decimal("0.25")}


def placed(s: Story, at: datetime, agency: str, hand: str) -> Story:
    return s.then(Placed, at, agency=agency, hand=hand, commission_rate=RATES[hand],
                  term_ends=at + timedelta(days=90))  # fmt: skip


def paid_with_commission(
    s: Story, at: datetime, amount: str, commission: str, *, unapplied: str = "0.00"
) -> Story:
    """A payment and the commission the agency the case is placed with earns on it; the
    commission is the test's own figure (rate x applied amount, worked out by hand)."""
    s.paid(at, amount, unapplied)
    payment = s.events[-1]
    assert isinstance(payment, PaymentReceived)
    placement = next(e for e in reversed(s.events) if isinstance(e, Placed))
    return s.then(CommissionEarned, at, agency=placement.agency, hand=placement.hand,
                  rate=placement.commission_rate, payment_reference=payment.reference,
                  amount=Decimal(commission))  # fmt: skip


@pytest.fixture
async def book(pool: asyncpg.Pool) -> asyncpg.Pool:
    # alpha, first hand: 01:00 on 1 May in Shanghai is still 30 April in UTC: May's.
    a1 = placed(story("a1"), bank_time(date(2026, 4, 1)), "alpha", "first")
    paid_with_commission(a1, datetime(2026, 4, 30, 17, tzinfo=UTC), "300.00", "60.00")
    paid_with_commission(a1, bank_time(date(2026, 5, 10)), "500.00", "100.00")
    # alpha, second hand: 40.00 of 400.00 unapplied, so 25 % of 360.00; the last payment
    # is at 01:00 on 1 June in Shanghai (31 May in UTC): June's, not on May's invoice.
    a2 = placed(story("a2"), bank_time(date(2026, 4, 2)), "alpha", "second")
    paid_with_commission(a2, bank_time(date(2026, 5, 20)), "400.00", "90.00", unapplied="40.00")
    paid_with_commission(a2, datetime(2026, 5, 31, 17, tzinfo=UTC), "200.00", "50.00")
    # beta: an April payment (not May's) and a May one.
    b1 = placed(story("b1"), bank_time(date(2026, 4, 3)), "beta", "first")
    paid_with_commission(b1, bank_time(date(2026, 4, 20)), "1000.00", "200.00")
    paid_with_commission(b1, bank_time(date(2026, 5, 15)), "123.45", "24.69")
    # Outside the champion arm of cn-card: another policy's case and a challenger's.
    other = placed(story("o1", policy="hk-card"), bank_time(date(2026, 4, 4)), "alpha", "first")
    paid_with_commission(other, bank_time(date(2026, 5, 11)), "50.00", "10.00")
    chal = placed(story("c1", arm="challenger"), bank_time(date(2026, 4, 5)), "beta", "first")
    paid_with_commission(chal, bank_time(date(2026, 5, 12)), "80.00", "16.00")
    await store_all(pool, a1, a2, b1, other, chal)
    return pool


def line(agency: str, case: str, day: int, seq: int, hand: str, amount: str, applied: str,
         commission: str) -> dict[str, object]:  # fmt: skip
    return {
        "agency": agency, "line": "payment", "case_id": f"case-{case}",
        "date": date(2026, 5, day), "payment_reference": f"P{seq}-case-{case}", "hand": hand,
        "rate": RATES[hand], "payments": 1, "amount": Decimal(amount),
        "applied": Decimal(applied), "commission": Decimal(commission),
    }  # fmt: skip


def total(
    agency: str, payments: int, amount: str, applied: str, commission: str
) -> dict[str, object]:
    return {
        "agency": agency, "line": "total", "case_id": None, "date": None,
        "payment_reference": None, "hand": None, "rate": None, "payments": payments,
        "amount": Decimal(amount), "applied": Decimal(applied),
        "commission": Decimal(commission),
    }  # fmt: skip


async def test_the_invoice_lists_each_payment_of_the_bank_month_and_each_agencys_total(
    book: asyncpg.Pool, report: RunReport
) -> None:
    invoice = await report("commissions", MAY_1, MAY_31, "cn-card", "champion")

    assert invoice.rows == [
        line("alpha", "a1", 1, 3, "first", "300.00", "300.00", "60.00"),
        line("alpha", "a1", 10, 5, "first", "500.00", "500.00", "100.00"),
        line("alpha", "a2", 20, 3, "second", "400.00", "360.00", "90.00"),
        total("alpha", 3, "1200.00", "1160.00", "250.00"),
        line("beta", "b1", 15, 5, "first", "123.45", "123.45", "24.69"),
        total("beta", 1, "123.45", "123.45", "24.69"),
    ]
    # Each agency's total is a row; a sum over every row would count each line twice.
    assert invoice.totals == {}


async def test_the_agency_totals_equal_the_commission_earned_events_of_the_month_to_the_cent(
    book: asyncpg.Pool, report: RunReport
) -> None:
    invoice = await report("commissions", MAY_1, MAY_31)
    totals = {r["agency"]: r["commission"] for r in invoice.rows if r["line"] == "total"}

    # Every case counts here (no policy, no arm): alpha 60 + 100 + 90 + 10 (hk-card),
    # beta 24.69 + 16 (challenger).
    assert totals == {"alpha": Decimal("260.00"), "beta": Decimal("40.69")}
    earned = await book.fetch(
        "SELECT payload->>'agency' AS agency, sum((payload->>'amount')::numeric) AS amount"
        " FROM case_events WHERE type = 'commission_earned'"
        " AND (at AT TIME ZONE 'Asia/Shanghai')::date BETWEEN $1 AND $2 GROUP BY 1",
        MAY_1, MAY_31,
    )  # fmt: skip
    assert totals == {r["agency"]: r["amount"] for r in earned}


async def test_a_month_without_commissions_is_an_empty_invoice(
    book: asyncpg.Pool, report: RunReport
) -> None:
    assert (await report("commissions", date(2026, 3, 1), date(2026, 3, 31))).rows == []


async def test_arrears_report_commissions_for_a_month_prints_the_invoice_as_json(
    book: asyncpg.Pool, fresh_database_url: str
) -> None:
    out = await report_json(fresh_database_url, "commissions", "--month", "2026-05", *CN_CHAMPION)

    assert (out["report"], out["from"], out["to"]) == ("commissions", "2026-05-01", "2026-05-31")
    assert [(r["agency"], r["line"], r["case_id"], r["date"], r["rate"], r["commission"])
            for r in out["rows"]] == [
        ("alpha", "payment", "case-a1", "2026-05-01", "0.2000", "60.00"),
        ("alpha", "payment", "case-a1", "2026-05-10", "0.2000", "100.00"),
        ("alpha", "payment", "case-a2", "2026-05-20", "0.2500", "90.00"),
        ("alpha", "total", None, None, None, "250.00"),
        ("beta", "payment", "case-b1", "2026-05-15", "0.2000", "24.69"),
        ("beta", "total", None, None, None, "24.69"),
    ]  # fmt: skip
