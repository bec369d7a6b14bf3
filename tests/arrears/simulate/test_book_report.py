"""Reports over a simulated book: the live book's SQL, run on the simulated events, gives
the figures the simulation itself counts (`domain.portfolio`'s tally, computed in Python
from the same events without any SQL)."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from arrears.intake.sample import write_sample
from arrears.policies import load_policy
from arrears.settings import Settings
from arrears.simulate.book_report import simulated_reports
from arrears.simulate.book_rows import (
    EVERY_EVENT_TYPE,
    BookRun,
    Challenger,
    Recording,
    month_ends,
    simulate_case,
)
from arrears.simulate.portfolio import CHUNK, Refusals, placement_rows
from arrears.store.events import event_from_payload
from domain.arms import Arm, assign_arm
from domain.delinquency import bucket_label
from domain.evolve import fold
from domain.portfolio import Tally, portfolio_report, simulate_accounts

EVERYTHING = Recording(EVERY_EVENT_TYPE, snapshots=False)
NOW = datetime(2026, 7, 2, tzinfo=UTC)


@pytest.fixture
def settings(postgres_server_url: str, clean_env: None) -> Settings:
    """The scratch databases go on the tests' server."""
    return Settings(database_url=postgres_server_url)


def tally_of(book: BookRun, profile: str, arm: str | None = None) -> Tally:
    rows = placement_rows(book.path, Refusals())
    if arm is not None:
        assert book.challenger is not None
        rows = (
            r
            for r in rows
            if assign_arm(r.account_id, book.challenger.profile, book.challenger.split) == arm
        )
    return simulate_accounts(rows, book.start, book.months, book.seed, load_policy(profile))


async def test_the_book_report_counts_the_open_cases_the_simulation_ends_with(
    book: BookRun, settings: Settings
) -> None:
    reports, refusals = await simulated_reports(book, "book", [None], settings, NOW)

    # Each case's standing at the end of the period: its events before the bank's
    # midnight after the last day, folded in Python.
    policy = load_policy(book.policy)
    end = month_ends(book.start, book.months, policy)[-1]
    expected_cases: Counter[str] = Counter()
    expected_total = Decimal(0)
    for row in placement_rows(book.path, Refusals()):
        run = simulate_case(row, book.start, book.months, book.seed, policy, EVERYTHING)
        state = fold([event_from_payload(e[4]) for e in run.events if e[3] < end])
        if state.outcome is None:
            expected_cases[bucket_label(state.bucket, policy.delinquency.top_bucket)] += 1
            expected_total += state.total
    by_bucket: Counter[str] = Counter()
    for line in reports[None].rows:
        by_bucket[str(line["bucket"])] += int(str(line["cases"]))
    assert by_bucket == expected_cases
    assert reports[None].totals["total"] == expected_total
    assert len(by_bucket) >= 2
    assert not refusals.rows


async def test_the_contacts_report_counts_the_attempts_the_simulation_made(
    book: BookRun, settings: Settings
) -> None:
    reports, _ = await simulated_reports(book, "contacts", [None], settings, NOW)

    per_channel = {
        str(r["channel"]): r["attempts"]
        for r in reports[None].rows
        if r["outcome"] == "all" and r["channel"] != "all"
    }
    assert per_channel == dict(tally_of(book, book.policy).attempts)
    assert len(per_channel) >= 2  # calls and letters at least: the check compares something


async def test_each_arm_is_simulated_under_its_own_profile_and_the_arms_add_up_to_the_book(
    book: BookRun, settings: Settings
) -> None:
    split = BookRun(**{**book.__dict__, "challenger": Challenger("us-reg-f", Decimal("0.4"))})
    arms: list[Arm | None] = [None, "champion", "challenger"]
    reports, _ = await simulated_reports(split, "contacts", arms, settings, NOW)

    def attempts(arm: str | None) -> dict[str, int]:
        return {
            str(r["channel"]): int(r["attempts"])  # type: ignore[arg-type]
            for r in reports[arm].rows  # type: ignore[index]
            if r["outcome"] == "all"
        }

    champion, challenger, whole = attempts("champion"), attempts("challenger"), attempts(None)
    assert Counter(champion) + Counter(challenger) == Counter(whole)
    assert champion == {**dict(tally_of(split, "cn-card", "champion").attempts),
                        "all": champion["all"]}  # fmt: skip
    assert challenger == {**dict(tally_of(split, "us-reg-f", "challenger").attempts),
                          "all": challenger["all"]}  # fmt: skip


async def test_commission_totals_equal_the_commission_earned_events_and_recovery_the_payments(
    book: BookRun, settings: Settings
) -> None:
    commissions, _ = await simulated_reports(book, "commissions", [None], settings, NOW)
    recovery, _ = await simulated_reports(book, "recovery", [None], settings, NOW)

    # By hand, from the simulated events themselves: what each agency earned, and what
    # the payments brought in (their amount less the unapplied part), in the period.
    policy = load_policy(book.policy)
    end = month_ends(book.start, book.months, policy)[-1]
    earned: defaultdict[str, Decimal] = defaultdict(Decimal)
    paid = Decimal(0)
    for row in placement_rows(book.path, Refusals()):
        case = simulate_case(row, book.start, book.months, book.seed, policy, EVERYTHING)
        for _, _, kind, at, payload, *_ in case.events:
            if at >= end:
                continue
            if kind == "commission_earned":
                earned[payload["agency"]] += Decimal(payload["amount"])
            elif kind == "payment_received":
                paid += Decimal(payload["amount"]) - Decimal(payload["unapplied"])
    assert len(earned) >= 2 and paid > 0  # the book has something to compare

    rows = commissions[None].rows
    totals = {r["agency"]: r["commission"] for r in rows if r["line"] == "total"}
    assert totals == earned
    lines: defaultdict[str, Decimal] = defaultdict(Decimal)
    for line in (r for r in rows if r["line"] == "payment"):
        lines[str(line["agency"])] += Decimal(str(line["commission"]))
    assert lines == earned
    assert recovery[None].totals["collected"] == paid
    by_month_and_stage = [r["collected"] for r in recovery[None].rows if r["section"] == "stage"]
    assert sum(Decimal(str(c)) for c in by_month_and_stage) == paid


async def test_a_report_simulated_in_several_processes_is_the_one_of_one_process(
    book: BookRun, settings: Settings
) -> None:
    # Accounts for several chunks of `--jobs` (`CHUNK`), so the rows come back from
    # different processes and must still be loaded whole.
    path = write_sample(book.path.with_name("more.csv"), 3 * CHUNK + 7, as_of=book.start)
    split = BookRun(
        path, 3, book.seed, book.start, book.policy, Challenger("us-reg-f", Decimal("0.4"))
    )
    arms: list[Arm | None] = [None, "champion", "challenger"]

    one, refused_one = await simulated_reports(split, "book", arms, settings, NOW, jobs=1)
    two, refused_two = await simulated_reports(split, "book", arms, settings, NOW, jobs=2)

    assert two == one
    assert refused_two == refused_one
    assert all(report.rows for report in one.values())


async def test_each_arms_recovery_report_collects_what_its_portfolio_report_recovered(
    book: BookRun, settings: Settings
) -> None:
    split = BookRun(**{**book.__dict__, "challenger": Challenger("us-reg-f", Decimal("0.4"))})
    reports, _ = await simulated_reports(
        split, "recovery", ["champion", "challenger"], settings, NOW
    )

    # The portfolio report's tally is Python over the same simulated payments, no SQL.
    for arm, profile in (("champion", "cn-card"), ("challenger", "us-reg-f")):
        tally = tally_of(split, profile, arm)
        recovered = portfolio_report(tally, load_policy(profile)).recovered
        assert reports[arm].totals["collected"] == Decimal(recovered) > 0  # type: ignore[index]
