"""`arrears import FILE`: its argument and options; the import is `arrears.intake.run`."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from arrears.errors import UsageError


def import_(
    file: Annotated[
        Path, typer.Argument(help="Placement file: CSV or JSON Lines (CONTRACTS.md §1).")
    ],
    day_seconds: Annotated[
        float, typer.Option(help="Seconds per business day of the started cases.")
    ] = 86400.0,
    report: Annotated[
        Path | None, typer.Option(help="Rejections CSV (default: FILE.rejected.csv).")
    ] = None,
    concurrency: Annotated[int, typer.Option(help="Workflow starts in flight at once.")] = 64,
) -> None:
    """Start one case workflow per good row; already running cases are not started again.

    A row placing an account whose case has ended starts a new episode, a new case
    `case-<account_id>.<n>` (a closed case is never reopened). The last line of stdout is
    the JSON summary; exit code 1 if any row was rejected.
    """
    from arrears.intake.run import run_import

    if concurrency < 1:
        raise UsageError("--concurrency must be at least 1")
    code = asyncio.run(run_import(file, report, day_seconds, concurrency))
    raise typer.Exit(code)
