"""`arrears simulate`: its arguments and options; the work is `arrears.simulate`."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal, cast

import typer

from arrears.errors import UsageError
from arrears.settings import Settings

if TYPE_CHECKING:
    from arrears.simulate.book_rows import BookRun, Challenger

FORMATS = ("table", "csv", "json")


def _challenger(profile: str | None, split: str | None) -> Challenger | None:
    from arrears.simulate.book_rows import Challenger

    if profile is None:
        if split is not None:
            raise UsageError("--split needs --challenger PROFILE")
        return None
    if split is None:
        raise UsageError("--challenger needs --split (the challenger's share, e.g. 0.2)")
    try:
        share = Decimal(split)
    except InvalidOperation:
        raise UsageError(f"--split {split!r} is not a number") from None
    if not (share.is_finite() and Decimal(0) < share < Decimal(1)):
        raise UsageError(f"--split {split} must lie strictly between 0 and 1")
    return Challenger(profile, share)


def _format(fmt: str | None) -> Literal["table", "csv", "json"]:
    if fmt is None:
        return "table"
    if fmt not in FORMATS:
        raise UsageError(f"--format {fmt!r}: one of {', '.join(FORMATS)}")
    return cast(Literal["table", "csv", "json"], fmt)


def simulate(
    scenario: Annotated[
        Path | None, typer.Argument(help="Scenario JSON (CONTRACTS.md §2).")
    ] = None,
    engine: Annotated[str, typer.Option(help="domain (no server) or temporal.")] = "domain",
    portfolio: Annotated[
        Path | None, typer.Option(help="Placement file: simulate every case.")
    ] = None,
    months: Annotated[int, typer.Option(help="Months to simulate a portfolio for.")] = 12,
    seed: Annotated[int, typer.Option(help="Seed of the simulated debtor behaviour.")] = 1,
    start: Annotated[
        str | None, typer.Option(help="Portfolio start date (ISO); default: today.")
    ] = None,
    jobs: Annotated[
        int,
        typer.Option(
            help="Processes a portfolio is simulated in (0: one per core); "
            "the report is the same for any number."
        ),
    ] = 1,
    report: Annotated[
        str | None,
        typer.Option(help="A report kind of `arrears report`, over the simulated book."),
    ] = None,
    fmt: Annotated[
        str | None, typer.Option("--format", help="table, csv or json (with --report).")
    ] = None,
    policy: Annotated[
        str | None,
        typer.Option(
            help="Policy profile of the portfolio (the champion); default: ARREARS_POLICY."
        ),
    ] = None,
    challenger: Annotated[
        str | None, typer.Option(help="Challenger profile: run a champion / challenger test.")
    ] = None,
    split: Annotated[
        str | None, typer.Option(help="Share of accounts in the challenger arm (0 < split < 1).")
    ] = None,
) -> None:
    """Run one scenario through the policy and print its timeline JSON (times in the
    bank's zone), or with --portfolio run every case of a placement file and print a
    portfolio report, or with --report a report of the live book's kinds over the
    simulated book; with --challenger, per arm side by side with the differences."""
    from arrears.simulate.book_rows import BookRun
    from arrears.simulate.interrupts import Interrupted, signals_interrupt
    from arrears.simulate.scenario import run_scenario

    if (scenario is None) == (portfolio is None):
        raise UsageError("give either a SCENARIO file or --portfolio FILE")
    if scenario is not None:
        if report or fmt or policy or challenger or split:
            raise UsageError(
                "--report, --format, --policy, --challenger and --split need --portfolio"
            )
        print(run_scenario(scenario, engine).model_dump_json(indent=2), flush=True)
        return
    assert portfolio is not None
    try:
        first_day = date.fromisoformat(start) if start else datetime.now(UTC).date()
    except ValueError:
        raise UsageError(f"--start {start!r} is not an ISO date (YYYY-MM-DD)") from None
    settings = Settings()
    book = BookRun(
        portfolio,
        months,
        seed,
        first_day,
        policy or settings.policy,
        _challenger(challenger, split),
    )
    try:
        with signals_interrupt():
            _simulate_book(book, report, fmt, jobs, settings)
    except Interrupted as stop:
        # The run cleaned up on the way here (`arrears.simulate.interrupts`).
        print(f"arrears: simulate stopped by {stop.name}; nothing reported", file=sys.stderr)
        raise typer.Exit(stop.exit_code) from None


def _simulate_book(
    book: BookRun, report: str | None, fmt: str | None, jobs: int, settings: Settings
) -> None:
    from arrears.simulate.book_report import portfolio_per_arm, simulated_report
    from arrears.simulate.portfolio import run_portfolio

    if report is not None:
        print(simulated_report(book, report, _format(fmt), settings, jobs), end="", flush=True)
        return
    if fmt not in (None, "json"):
        raise UsageError("without --report the portfolio report is JSON only")
    if book.challenger is None:
        result, refusals = run_portfolio(
            book.path, book.months, book.seed, book.start, book.policy, jobs
        )
        print(result.model_dump_json(indent=2), flush=True)
        for line in refusals.lines(book.path):
            print(f"arrears: {line}", file=sys.stderr)
        return
    print(portfolio_per_arm(book, jobs), flush=True)
