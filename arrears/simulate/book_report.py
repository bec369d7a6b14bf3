"""`arrears simulate --portfolio FILE --report KIND`: a report of the live book's kinds over
a simulated book, by the very SQL that reports on the live book (`arrears.reports`).

The simulated events are loaded into a scratch database (`arrears.simulate.to_postgres`)
and the report runs there: one definition of each report serves both books, so a figure
of a simulation means what the same figure of the live book means. With a challenger the
accounts are split into arms (`domain.arms.assign_arm`, the function the live import
uses), each arm simulated under its own profile, and the report run once per arm.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

from arrears.errors import ArrearsError, UsageError
from arrears.policies import load_policy
from arrears.reports.run import Format, Report, ReportQuery, definition_of, render, run_report
from arrears.settings import Settings
from arrears.simulate.arms_compared import portfolio_difference, render_compared
from arrears.simulate.book_rows import BookRun, Recording, SimulatedCase, simulate_case
from arrears.simulate.portfolio import Refusals, placement_rows, run_portfolio
from arrears.simulate.to_postgres import load_cases, scratch_database
from domain.arms import Arm, assign_arm
from domain.errors import DomainError
from domain.placement import PlacementRow
from domain.policy import Policy


def simulated_cases(
    book: BookRun, policies: dict[Arm, Policy], recording: Recording, refusals: Refusals
) -> Iterator[SimulatedCase]:
    """Each account of the file simulated under its arm's profile, as the file is read."""
    challenger = book.challenger
    for row in placement_rows(book.path, refusals):
        arm: Arm | None = None
        if challenger is not None:
            arm = assign_arm(row.account_id, challenger.profile, challenger.split)
        policy = policies[arm or "champion"]
        case = simulate_case(row, book.start, book.months, book.seed, policy, recording, arm)
        if case.refused is not None:
            refusals.not_opened[case.refused] += 1
        yield case


async def simulated_reports(
    book: BookRun,
    kind: str,
    arms: Sequence[Arm | None],
    settings: Settings,
    generated_at: datetime,
) -> tuple[dict[Arm | None, Report], Refusals]:
    """The report of `kind` over the simulated book, once per entry of `arms` (None: the
    whole book), and what was left out of the book."""
    if book.months < 1:
        raise UsageError("--months must be at least 1")
    definition = definition_of(kind)
    policies: dict[Arm, Policy] = {"champion": load_policy(book.policy)}
    policies["challenger"] = (
        load_policy(book.challenger.profile) if book.challenger else policies["champion"]
    )
    recording = Recording(
        event_types=definition.reads | {"case_opened"}, snapshots=definition.reads_snapshots
    )
    refusals = Refusals()
    # The period is the bank days of the champion's zone (a challenger in another zone
    # would not be the same book).
    zone = policies["champion"].cycle.bank_timezone
    reports: dict[Arm | None, Report] = {}
    async with scratch_database(settings) as pool:
        try:
            await load_cases(pool, simulated_cases(book, policies, recording, refusals))
        except DomainError as err:
            raise ArrearsError(f"portfolio {book.path}: {err}") from None
        async with pool.acquire() as conn:
            for arm in arms:
                query = ReportQuery(
                    kind=kind,
                    date_from=book.start,
                    date_to=book.last_day,
                    arm=arm,
                    bank_timezone=zone,
                    generated_at=generated_at,
                )
                reports[arm] = await run_report(conn, query)
    return reports, refusals


def simulated_report(book: BookRun, kind: str, fmt: Format, settings: Settings) -> str:
    """`simulate --report KIND`: the report of the simulated book, or of each arm side by
    side with the differences when the run has a challenger. Refusals go to stderr."""
    arms: list[Arm | None] = ["champion", "challenger"] if book.challenger else [None]
    reports, refusals = asyncio.run(
        simulated_reports(book, kind, arms, settings, datetime.now(UTC))
    )
    for line in refusals.lines(book.path):
        print(f"arrears: {line}", file=sys.stderr)
    if book.challenger is None:
        return render(reports[None], fmt)
    return render_compared(reports["champion"], reports["challenger"], fmt)


def portfolio_per_arm(book: BookRun, jobs: int) -> str:
    """`simulate --challenger` without --report: the portfolio report of each arm, each
    under its own profile, and their difference (`portfolio_difference`), as JSON:
    {"arms": {"champion": ..., "challenger": ...}, "difference": ...}."""
    assert book.challenger is not None
    challenger = book.challenger
    reports = {}
    for arm, profile in (("champion", book.policy), ("challenger", challenger.profile)):

        def in_arm(row: PlacementRow, arm: str = arm) -> bool:
            return assign_arm(row.account_id, challenger.profile, challenger.split) == arm

        report, refusals = run_portfolio(
            book.path, book.months, book.seed, book.start, profile, jobs, keep=in_arm
        )
        for line in refusals.lines(book.path):
            print(f"arrears: {arm}: {line}", file=sys.stderr)
        reports[arm] = report
    document = {
        "arms": {arm: report.model_dump(mode="json") for arm, report in reports.items()},
        "difference": portfolio_difference(reports["champion"], reports["challenger"]),
    }
    return json.dumps(document, indent=2, ensure_ascii=False)
