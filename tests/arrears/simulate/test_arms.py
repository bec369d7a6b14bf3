"""Champion / challenger in simulation: who is in which arm, under which profile."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import asyncpg

from arrears.intake.sample import write_sample
from arrears.policies import load_policy
from arrears.simulate.book_report import simulated_cases
from arrears.simulate.book_rows import BookRun, BookSimulator, Challenger, Recording
from arrears.simulate.portfolio import Refusals
from arrears.simulate.to_postgres import load_cases
from domain.arms import Arm
from domain.policy import Policy

OPENED_ONLY = Recording(frozenset({"case_opened"}), snapshots=False)
POLICIES: dict[Arm, Policy] = {
    "champion": load_policy("cn-card"),
    "challenger": load_policy("us-reg-f"),
}


def split_book(tmp_path: Path, accounts: int, split: str) -> BookRun:
    start = date(2026, 3, 1)
    path = write_sample(tmp_path / "placements.csv", accounts, as_of=start)
    return BookRun(path, 1, 5, start, "cn-card", Challenger("us-reg-f", Decimal(split)))


def opened(book: BookRun) -> dict[str, dict[str, object]]:
    """Each case's `case_opened` payload, by case id."""
    cases = simulated_cases(BookSimulator(book, POLICIES, OPENED_ONLY), Refusals())
    return {c.events[0][0]: c.events[0][4] for c in cases if c.refused is None}


async def test_a_split_puts_about_its_share_of_accounts_in_the_challenger_arm_under_its_profile(
    tmp_path: Path, pool: asyncpg.Pool
) -> None:
    book = split_book(tmp_path, 600, "0.2")
    await load_cases(pool, simulated_cases(BookSimulator(book, POLICIES, OPENED_ONLY), Refusals()))

    rows = await pool.fetch(
        "SELECT payload->>'arm' AS arm, payload->>'policy' AS policy, count(*) AS n"
        " FROM case_events WHERE type = 'case_opened' GROUP BY 1, 2"
    )
    found = {(r["arm"], r["policy"]): r["n"] for r in rows}
    assert set(found) == {("champion", "cn-card"), ("challenger", "us-reg-f")}
    # 600 accounts at 0.2: 120 expected, sd about 10.
    assert 90 <= found[("challenger", "us-reg-f")] <= 150
    assert found[("champion", "cn-card")] + found[("challenger", "us-reg-f")] == 600


def test_an_account_is_in_the_same_arm_in_every_run_and_a_new_challenger_draws_anew(
    tmp_path: Path,
) -> None:
    book = split_book(tmp_path, 200, "0.5")
    first, again = opened(book), opened(book)
    arms = {case: payload["arm"] for case, payload in first.items()}
    assert arms == {case: payload["arm"] for case, payload in again.items()}

    other = BookRun(**{**book.__dict__, "challenger": Challenger("cn-card", Decimal("0.5"))})
    redrawn = {case: payload["arm"] for case, payload in opened(other).items()}
    assert redrawn != arms  # the challenger's name salts the draw
