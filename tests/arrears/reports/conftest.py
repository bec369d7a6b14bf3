"""Fixtures of the report tests: a report run against a migrated database, and a small
book told as stories (tests/book_cases.py) whose figures each test works out by hand.

The book (bank zone Asia/Shanghai, every event at noon there = 04:00 UTC; amounts in
the currency of the case):

- A (cn-card, champion): opened 5 Jan in M1 (phone, 1000.00); M2 and letter on 5 Feb
  (1000 + 60 interest + 40 fees); paid 300.00 on 20 Feb (to principal); open.
- B (cn-card, champion): opened 10 Jan in M1 (phone, 2000.00); paid 2000.00 on 15 Feb,
  cured that day.
- C (cn-card, champion): opened 20 Jan in M1 (phone, 500.00); M2 on 20 Feb; M3 on
  20 Mar, outsourcing, placed with AG1 (first hand, 5%, balance 520.00 at placement);
  paid 200.00 on 25 Mar while placed (commission 10.00); open.
- D (us-reg-f, challenger): opened 3 Jan in M1 (phone, 700.00); M2 on 3 Feb;
  written off on 10 Mar.
- E (cn-card, challenger): opened 8 Jan in M1 (phone, 400.00); paid 400.00 on 25 Jan,
  cured that day.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from pathlib import Path

import asyncpg
import pytest

from arrears.reports.run import Report, ReportQuery, run_report
from domain.events import (
    BucketChanged,
    CaseClosed,
    CommissionEarned,
    Placed,
    StageChanged,
)
from tests.book_cases import Story, store_all
from tests.support import bare_env

SHANGHAI = "Asia/Shanghai"
GENERATED = datetime(2026, 6, 1, tzinfo=UTC)

RunReport = Callable[..., Awaitable[Report]]


def noon(month: int, day: int) -> datetime:
    """Noon in Shanghai on that day of 2026."""
    return datetime(2026, month, day, 4, tzinfo=UTC)


@pytest.fixture
def report(pool: asyncpg.Pool) -> RunReport:
    """`await report(kind, from, to, policy=None, arm=None)`: the report over the pool."""

    async def run(
        kind: str, date_from: date, date_to: date, policy: str | None = None,
        arm: str | None = None,
    ) -> Report:  # fmt: skip
        query = ReportQuery(
            kind=kind, date_from=date_from, date_to=date_to, policy=policy, arm=arm,
            bank_timezone=SHANGHAI, generated_at=GENERATED,
        )  # fmt: skip
        async with pool.acquire() as conn:
            return await run_report(conn, query)

    return run


def _entered(story: Story, at: datetime, bucket: str, previous: str, dpd: int) -> Story:
    return story.then(
        BucketChanged, at, bucket=bucket, previous=previous, dpd=dpd, oldest_unpaid_due_date=None
    )


def _staged(story: Story, at: datetime, stage: str, previous: str) -> Story:
    return story.then(StageChanged, at, stage=stage, previous=previous, reason="test")


def small_book_stories() -> dict[str, Story]:
    """The book of the module docstring, each case's batches at its business times."""
    a = Story("A", opened_at=noon(1, 5), balance="1000.00")
    _entered(a, noon(1, 5), "M1", "M0", 35)
    _staged(a, noon(1, 5), "phone", "reminder").standing(noon(1, 5), balance="1000.00")
    _entered(a, noon(2, 5), "M2", "M1", 66)
    _staged(a, noon(2, 5), "letter", "phone")
    a.standing(noon(2, 5), stage="letter", bucket="M2", dpd=66, interest=60, fees=40)
    a.paid(noon(2, 20), "300.00").standing(noon(2, 20), balance="700.00", dpd=81)

    b = Story("B", opened_at=noon(1, 10), balance="2000.00")
    _entered(b, noon(1, 10), "M1", "M0", 35)
    _staged(b, noon(1, 10), "phone", "reminder").standing(noon(1, 10))
    b.paid(noon(2, 15), "2000.00").then(CaseClosed, noon(2, 15), outcome="cured")
    b.standing(noon(2, 15), balance="0.00", bucket="M0", dpd=0, outcome="cured")

    c = Story("C", opened_at=noon(1, 20), balance="500.00")
    _entered(c, noon(1, 20), "M1", "M0", 35)
    _staged(c, noon(1, 20), "phone", "reminder").standing(noon(1, 20))
    _entered(c, noon(2, 20), "M2", "M1", 66).standing(noon(2, 20), bucket="M2", dpd=66)
    _entered(c, noon(3, 20), "M3", "M2", 94)
    _staged(c, noon(3, 20), "outsourcing", "phone")
    c.then(
        Placed, noon(3, 20), agency="AG1", hand="first", commission_rate="0.05",
        term_ends=noon(6, 20), balance="520.00",
    )  # fmt: skip
    c.standing(noon(3, 20), stage="outsourcing", bucket="M3", dpd=94, interest=20, agency="AG1")
    c.paid(noon(3, 25), "200.00").then(
        CommissionEarned, noon(3, 25), agency="AG1", hand="first", rate="0.05",
        payment_reference=f"P{len(c.events)}-{c.case_id}", amount="10.00",
    )  # fmt: skip
    c.standing(noon(3, 25), balance="300.00", dpd=99)

    d = Story("D", opened_at=noon(1, 3), balance="700.00", policy="us-reg-f", arm="challenger")
    _entered(d, noon(1, 3), "M1", "M0", 35)
    _staged(d, noon(1, 3), "phone", "reminder").standing(noon(1, 3))
    _entered(d, noon(2, 3), "M2", "M1", 66).standing(noon(2, 3), bucket="M2", dpd=66)
    d.then(CaseClosed, noon(3, 10), outcome="written_off")
    d.standing(noon(3, 10), outcome="written_off")

    e = Story("E", opened_at=noon(1, 8), balance="400.00", arm="challenger")
    _entered(e, noon(1, 8), "M1", "M0", 35)
    _staged(e, noon(1, 8), "phone", "reminder").standing(noon(1, 8))
    e.paid(noon(1, 25), "400.00").then(CaseClosed, noon(1, 25), outcome="cured")
    e.standing(noon(1, 25), balance="0.00", bucket="M0", dpd=0, outcome="cured")
    return {"A": a, "B": b, "C": c, "D": d, "E": e}


@pytest.fixture
async def small_book(pool: asyncpg.Pool) -> dict[str, Story]:
    """The small book, stored."""
    stories = small_book_stories()
    await store_all(pool, *stories.values())
    return stories


ROOT = Path(__file__).resolve().parents[3]


async def arrears(*args: str, db_url: str) -> tuple[int, str, str]:
    """`python -m arrears.cli ARGS` from this tree with only `DATABASE_URL` configured:
    (exit code, stdout, stderr)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "arrears.cli", *args, env=bare_env(DATABASE_URL=db_url),
        cwd=ROOT, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()
