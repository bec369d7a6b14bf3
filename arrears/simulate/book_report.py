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
import contextlib
import json
import sys
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from itertools import chain

from arrears.errors import ArrearsError, UsageError
from arrears.policies import load_policy
from arrears.reports.run import Format, Report, ReportQuery, definition_of, render, run_report
from arrears.settings import Settings
from arrears.simulate.arms_compared import portfolio_difference, render_compared
from arrears.simulate.book_rows import BookRun, BookSimulator, Recording, SimulatedCase
from arrears.simulate.portfolio import (
    Refusals,
    chunk_pool,
    in_chunks,
    placement_rows,
    processes_for,
    run_portfolio,
)
from arrears.simulate.to_postgres import load_cases, scratch_database
from domain.arms import Arm, assign_arm
from domain.errors import DomainError
from domain.placement import PlacementRow
from domain.policy import Policy


def simulated_cases(
    simulator: BookSimulator,
    refusals: Refusals,
    pool: ProcessPoolExecutor | None = None,
    processes: int = 1,
) -> Iterator[SimulatedCase]:
    """Each account of the file simulated (`BookSimulator`), in file order as the file is
    read: in this process, or in `pool`'s `processes` a chunk at a time (the first
    chunks are submitted at once, so they run while the scratch database starts)."""
    rows = placement_rows(simulator.book.path, refusals)
    if pool is None:
        cases: Iterator[SimulatedCase] = map(simulator.case, rows)
    else:
        cases = chain.from_iterable(in_chunks(pool, simulator, rows, processes))

    def counted() -> Iterator[SimulatedCase]:
        for case in cases:
            if case.refused is not None:
                refusals.not_opened[case.refused] += 1
            yield case

    return counted()


async def simulated_reports(
    book: BookRun,
    kind: str,
    arms: Sequence[Arm | None],
    settings: Settings,
    generated_at: datetime,
    jobs: int = 1,
) -> tuple[dict[Arm | None, Report], Refusals]:
    """The report of `kind` over the simulated book, once per entry of `arms` (None: the
    whole book), and what was left out of the book. With `jobs` (as `--jobs`: 0 is one
    per core) above 1 the accounts are simulated in that many processes; this process
    reads the file and COPYs the rows, in file order, so the database holds the same
    rows for any number."""
    if book.months < 1:
        raise UsageError("--months must be at least 1")
    processes = processes_for(jobs)
    definition = definition_of(kind)
    policies: dict[Arm, Policy] = {"champion": load_policy(book.policy)}
    policies["challenger"] = (
        load_policy(book.challenger.profile) if book.challenger else policies["champion"]
    )
    recording = Recording(
        event_types=definition.reads | {"case_opened"}, snapshots=definition.reads_snapshots
    )
    simulator = BookSimulator(book, policies, recording)
    refusals = Refusals()
    # The period is the bank days of the champion's zone (a challenger in another zone
    # would not be the same book).
    zone = policies["champion"].cycle.bank_timezone
    reports: dict[Arm | None, Report] = {}
    with contextlib.ExitStack() as stack:
        pool = stack.enter_context(chunk_pool(processes)) if processes > 1 else None
        cases = simulated_cases(simulator, refusals, pool, processes)
        async with scratch_database(settings) as db:
            try:
                await load_cases(db, cases)
            except DomainError as err:
                raise ArrearsError(f"portfolio {book.path}: {err}") from None
            async with db.acquire() as conn:
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


def simulated_report(
    book: BookRun, kind: str, fmt: Format, settings: Settings, jobs: int = 1
) -> str:
    """`simulate --report KIND`: the report of the simulated book, or of each arm side by
    side with the differences when the run has a challenger. Refusals go to stderr."""
    arms: list[Arm | None] = ["champion", "challenger"] if book.challenger else [None]
    reports, refusals = asyncio.run(
        simulated_reports(book, kind, arms, settings, datetime.now(UTC), jobs)
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
