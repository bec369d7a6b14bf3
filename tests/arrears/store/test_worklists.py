"""The worklists on a real PostgreSQL: small books told event by event through the
EventStore, each list checked against the cases a person would pick by hand."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import asyncpg
import pytest

from arrears.policies import load_policy
from arrears.store import worklists
from arrears.store.worklists import Filters, worklist, worklist_counts
from domain.events import (
    ContactAttempted,
    HoldEnded,
    HoldStarted,
    InstallmentPaid,
    Placed,
    PlanAgreed,
    PlanBroken,
    PromiseBroken,
    PromiseKept,
    PromiseMade,
    Recalled,
)
from tests.book_cases import NOW, TODAY, Story, store_all

LEGAL = {"cn-card": load_policy("cn-card").legal}  # threshold 50,000.00 from M3
D = Decimal
DAY = timedelta(days=1)
MIGRATION = Path(worklists.__file__).parent / "migrations" / "0009_worklists.sql"


def promise(story: Story, due: date, amount: str = "500.00") -> Story:
    at = NOW - 5 * DAY
    return story.then(PromiseMade, at, amount=D(amount), due=due, pause_until=at + 9 * DAY)


def plan(story: Story, first_due: date, installments: int = 6) -> Story:
    return story.then(
        PlanAgreed, NOW - 40 * DAY, installments=installments,
        installment_amount=D("100.00"), first_due=first_due,
    )  # fmt: skip


def call(story: Story, days_ago: int, outcome: str, target: str = "debtor") -> Story:
    at = NOW - days_ago * DAY
    return story.then(
        ContactAttempted, at, channel="call", target=target, outcome=outcome, planned_at=at,
        line="mobile" if target == "debtor" else None,
        contact_index=1 if target == "contact" else None, recording_ref="rec-1",
    )  # fmt: skip


def placed(story: Story, agency: str, term_ends_in: timedelta) -> Story:
    return story.then(
        Placed, NOW - 80 * DAY, agency=agency, hand="first", commission_rate=D("0.20"),
        term_ends=NOW + term_ends_in,
    )  # fmt: skip


def book() -> list[Story]:
    broken = promise(Story("1003"), TODAY - 3 * DAY)
    missed = promise(Story("1004", balance="4000.00"), TODAY - 60 * DAY)
    missed.then(PromiseBroken, NOW - 50 * DAY, amount=D("500.00"), paid=D("0.00"))
    plan(missed, date(2026, 5, 31))
    missed.then(InstallmentPaid, NOW - 10 * DAY, number=1)
    return [
        promise(Story("1001", balance="3000.00"), TODAY),
        promise(Story("1002"), TODAY + DAY),
        broken.then(PromiseBroken, NOW - 1 * DAY, amount=D("500.00"), paid=D("120.00")),
        missed.then(PlanBroken, NOW - 2 * DAY, number=2, paid=D("100.00"), due=D("200.00")),
        promise(Story("1005"), TODAY).then(PromiseKept, NOW, amount=D("500.00"), paid=D("500")),
        Story("1006", stage="letter").then(HoldStarted, NOW - DAY, kind="dispute"),
        Story("1007")
        .then(HoldStarted, NOW - 9 * DAY, kind="dispute")
        .then(HoldEnded, NOW - DAY, kind="dispute"),
        Story("1008", opened_at=NOW - 90 * DAY).then(HoldStarted, NOW, kind="cease_contact"),
        Story("1009", stage="letter", bucket="M3", balance="60000.00").paid(NOW - 3 * DAY, "50"),
        Story("1010", stage="phone", bucket="M2", balance="60000.00"),
        Story("1011", stage="legal", bucket="M4+", balance="80000.00"),
        Story("1012", stage="outsourcing", bucket="M4+", balance="49999.99"),
        Story("1013", stage="outsourcing", bucket="M4+", balance="50000.00", agency="agency-b"),
        placed(Story("1014", agency="agency-a"), "agency-a", timedelta(days=3)),
        placed(Story("1015", agency="agency-b"), "agency-b", timedelta(days=6, hours=23)),
        placed(Story("1016", agency="agency-a"), "agency-a", timedelta(days=8)).paid(NOW, "80"),
        placed(Story("1017"), "agency-a", timedelta(days=2)).then(
            Recalled, NOW - DAY, agency="agency-a", hand="first", reason="term_ended"
        ),
        call(Story("1018", opened_at=NOW - 60 * DAY), 10, "right_party_contact"),
        call(Story("1019", opened_at=NOW - 60 * DAY), 5, "no_answer"),
        call(Story("1020", opened_at=NOW - 60 * DAY), 3, "right_party_contact", "contact"),
        call(Story("1021", opened_at=NOW - 60 * DAY), 31, "promise"),
        promise(Story("1022", outcome="cured", opened_at=NOW - 60 * DAY), TODAY),
    ]


@pytest.fixture
async def stored(pool: asyncpg.Pool) -> asyncpg.Pool:
    await store_all(pool, *book())
    return pool


async def on(pool: asyncpg.Pool, name: str, **kwargs: object) -> list[str]:
    async with pool.acquire() as conn:
        page = await worklist(conn, name, today=TODAY, now=NOW, legal=LEGAL, sort="case",
                              **kwargs)  # type: ignore[arg-type]  # fmt: skip
    return [row.case_id for row in page.rows]


EXPECTED = {
    "promises_due_today": ["case-1001"],
    "promises_broken": ["case-1003"],
    "installments_missed": ["case-1004"],
    "open_disputes": ["case-1006"],
    "cease_contact": ["case-1008"],
    "legal_threshold": ["case-1009", "case-1013"],
    "terms_ending": ["case-1014", "case-1015"],
    "no_rpc_30d": ["case-1019", "case-1020", "case-1021"],
}


@pytest.mark.parametrize("name", list(EXPECTED))
async def test_each_worklist_holds_exactly_the_open_cases_that_need_a_person(
    stored: asyncpg.Pool, name: str
) -> None:
    assert await on(stored, name) == EXPECTED[name]


async def test_the_counts_of_all_lists_agree_with_the_lists(stored: asyncpg.Pool) -> None:
    async with stored.acquire() as conn:
        counts = await worklist_counts(conn, today=TODAY, now=NOW, legal=LEGAL)
    assert counts == {name: len(cases) for name, cases in EXPECTED.items()}


async def test_a_row_carries_the_lists_own_figure_and_amount(stored: asyncpg.Pool) -> None:
    async with stored.acquire() as conn:
        due = await worklist(conn, "promises_due_today", today=TODAY, now=NOW, legal=LEGAL)
        broken = await worklist(conn, "promises_broken", today=TODAY, now=NOW, legal=LEGAL)
        legal = await worklist(conn, "legal_threshold", today=TODAY, now=NOW, legal=LEGAL)
    assert (due.rows[0].key, due.rows[0].amount, due.rows[0].balance) == (
        TODAY,
        D("500.00"),
        D("3000.00"),
    )
    assert (broken.rows[0].key, broken.rows[0].amount) == (NOW - DAY, D("500.00"))
    assert {row.amount for row in legal.rows} == {D("50000.00")}


async def test_filters_narrow_a_list_by_stage_bucket_agency_and_policy(
    stored: asyncpg.Pool,
) -> None:
    assert await on(stored, "legal_threshold", filters=Filters(stage="letter")) == ["case-1009"]
    assert await on(stored, "legal_threshold", filters=Filters(bucket="M4+")) == ["case-1013"]
    assert await on(stored, "terms_ending", filters=Filters(agency="agency-b")) == ["case-1015"]
    assert await on(stored, "terms_ending", filters=Filters(policy="us-reg-f")) == []


async def test_a_list_sorts_by_the_chosen_column_and_pages_with_its_total(
    stored: asyncpg.Pool,
) -> None:
    async with stored.acquire() as conn:

        async def page(offset: int) -> tuple[list[str], int]:
            found = await worklist(conn, "no_rpc_30d", today=TODAY, now=NOW, legal=LEGAL,
                                   sort="key", descending=True, limit=2, offset=offset)  # fmt: skip
            return [r.case_id for r in found.rows], found.total

        # Last right-party contact newest first, never-reached last.
        assert await page(0) == (["case-1021", "case-1019"], 3)
        assert await page(2) == (["case-1020"], 3)
        assert await page(6) == ([], 3)


async def test_an_installment_plan_knows_its_next_due_date_clipped_to_the_months_end(
    pool: asyncpg.Pool,
) -> None:
    story = plan(Story("2001"), date(2026, 1, 31), installments=12)
    story.then(InstallmentPaid, NOW, number=1)
    await story.store(pool)
    row = await pool.fetchrow("SELECT * FROM case_worklist WHERE case_id = 'case-2001'")
    assert (row["plan_installments"], row["plan_installments_paid"]) == (12, 1)
    assert row["plan_next_due"] == date(2026, 2, 28)


async def test_the_migrations_backfill_builds_the_same_rows_as_the_live_projection(
    stored: asyncpg.Pool,
) -> None:
    """A book that existed before migration 0009 gets the worklists it would have had."""
    live = await _worklist_rows(stored)
    payments = await stored.fetch("SELECT case_id, seq, stage, agency FROM payments ORDER BY 1, 2")
    text = MIGRATION.read_text()
    backfill = text[text.index("-- Backfill") : text.index("GRANT SELECT, INSERT, UPDATE")]
    async with stored.acquire() as conn, conn.transaction():
        await conn.execute(
            "DELETE FROM case_worklist; UPDATE payments SET stage = NULL, agency = NULL"
        )
        await conn.execute(backfill)
    assert await _worklist_rows(stored) == live
    assert await stored.fetch("SELECT case_id, seq, stage, agency FROM payments ORDER BY 1, 2") == (
        payments
    )
    assert len(live) == len(book())


async def _worklist_rows(pool: asyncpg.Pool) -> list[tuple[object, ...]]:
    rows = await pool.fetch("SELECT * FROM case_worklist ORDER BY case_id")
    return [tuple(r.values()) for r in rows]
