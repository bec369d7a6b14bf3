"""The portfolio simulation in parts: tallies of parts of a book merge into the report of
the whole book (what `arrears simulate --portfolio --jobs N` relies on)."""

from __future__ import annotations

import pickle
from datetime import date, timedelta

import pytest

from domain.errors import DomainError, OverrideRejected
from domain.placement import PlacementRow
from domain.policy import Policy
from domain.portfolio import Tally, portfolio_report, simulate_accounts, simulate_portfolio
from tests.domain.conftest import make_row

START = date(2026, 3, 1)
MONTHS = 6
SEED = 3


def book(size: int) -> list[PlacementRow]:
    """Accounts varied enough that a few months end in several buckets, some cure, some
    are placed with agencies (commissions) and every channel is used."""
    return [
        make_row(
            account_id=f"BOOK-{n:03d}",
            principal=f"{2000 + 7919 * n % 60000}.00",
            credit_limit=f"{(5, 20, 50)[n % 3]}000.00",
            oldest_unpaid_due_date=(
                START - timedelta(days=(3, 35, 70, 100, 130)[n % 5])
            ).isoformat(),
            home_address="1 Home Road" if n % 2 == 0 else None,
            work_address="2 Office Street" if n % 3 else None,
            contacts="A:friend:+8613800000011" if n % 4 else "",
        )
        for n in range(size)
    ]


@pytest.fixture(scope="module")
def whole() -> tuple[list[PlacementRow], Policy, str]:
    rows, policy = book(40), Policy()
    report = simulate_portfolio(rows, START, MONTHS, SEED, policy)
    # A report worth comparing: something happened in every part of it.
    assert report.outcomes.get("cured", 0) > 0 and report.outcomes.get("open", 0) > 0
    assert len(report.months[-1].accounts) >= 3 and report.commissions
    assert set(report.contact_attempts) >= {"sms", "call", "letter"}
    return rows, policy, report.model_dump_json()


@pytest.mark.parametrize(
    "sizes", [[1, 39], [13, 13, 14], [7] * 5 + [5], [40]], ids=["1+39", "13+13+14", "7x5+5", "40"]
)
def test_tallies_of_the_parts_of_a_book_merge_into_the_report_of_the_whole_book(
    whole: tuple[list[PlacementRow], Policy, str], sizes: list[int]
) -> None:
    rows, policy, expected = whole
    parts, at = [], 0
    for size in sizes:
        parts.append(rows[at : at + size])
        at += size
    total = Tally(START, MONTHS)
    for part in reversed(parts):  # the order parts finish in does not matter either
        total.merge(simulate_accounts(part, START, MONTHS, SEED, policy))

    assert portfolio_report(total, policy).model_dump_json() == expected


def test_a_bucket_whose_balance_is_zero_is_still_reported_after_a_merge(
    whole: tuple[list[PlacementRow], Policy, str],
) -> None:
    rows, policy, _ = whole
    total = Tally(START, MONTHS)
    for row in rows:
        total.merge(simulate_accounts([row], START, MONTHS, SEED, policy))

    last = portfolio_report(total, policy).months[-1]
    assert last.balance["cured"] == "0.00" and last.accounts["cured"] > 0


def test_a_placement_the_policy_refuses_is_left_out_and_counted_and_the_rest_go_on(
    whole: tuple[list[PlacementRow], Policy, str],
) -> None:
    rows, policy, expected = whole
    late = make_row(account_id="BOOK-LATE", oldest_unpaid_due_date=START.isoformat())

    tally = simulate_accounts([*rows[:20], late, *rows[20:]], START, MONTHS, SEED, policy)

    assert tally.refused == {
        "placement: the oldest unpaid due date must be before the day the case opens": 1
    }
    assert portfolio_report(tally, policy).model_dump_json() == expected


def test_tallies_of_different_periods_are_not_merged() -> None:
    with pytest.raises(ValueError, match="different periods"):
        Tally(START, MONTHS).merge(Tally(START, MONTHS + 1))
    with pytest.raises(ValueError, match="different periods"):
        Tally(START, MONTHS).merge(Tally(START + timedelta(days=1), MONTHS))


@pytest.mark.parametrize("kind", [DomainError, OverrideRejected])
def test_a_refusal_crosses_a_process_boundary_whole(kind: type[DomainError]) -> None:
    refusal = kind("placement", "the oldest unpaid due date must be before", opened=START)

    back = pickle.loads(pickle.dumps(refusal))

    assert type(back) is kind
    assert (back.rule, back.message, back.values, str(back)) == (
        refusal.rule,
        refusal.message,
        refusal.values,
        str(refusal),
    )
