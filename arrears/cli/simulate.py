"""`arrears simulate`: its arguments and options; the work is `arrears.simulate`."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated

import typer

from arrears.errors import UsageError
from arrears.settings import Settings


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
) -> None:
    """Run one scenario through the policy and print its timeline JSON (times in the
    bank's zone), or with --portfolio run every case of a placement file and print a
    portfolio report."""
    from arrears.simulate.portfolio import run_portfolio
    from arrears.simulate.scenario import run_scenario

    if (scenario is None) == (portfolio is None):
        raise UsageError("give either a SCENARIO file or --portfolio FILE")
    if scenario is not None:
        print(run_scenario(scenario, engine).model_dump_json(indent=2), flush=True)
        return
    assert portfolio is not None
    try:
        first_day = date.fromisoformat(start) if start else datetime.now(UTC).date()
    except ValueError:
        raise UsageError(f"--start {start!r} is not an ISO date (YYYY-MM-DD)") from None
    report, refusals = run_portfolio(portfolio, months, seed, first_day, Settings().policy, jobs)
    print(report.model_dump_json(indent=2), flush=True)
    for line in refusals.lines(portfolio):
        print(f"arrears: {line}", file=sys.stderr)
