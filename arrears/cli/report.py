"""`arrears report KIND`: its arguments and options; the work is `arrears.reports`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def report_command(
    kind: Annotated[
        str,
        typer.Argument(
            help="book, roll-rates, cure, recovery, commissions, contacts, promises, overrides."
        ),
    ],
    date_from: Annotated[
        str | None,
        typer.Option("--from", help="First bank day (default: 11 months before --to's month)."),
    ] = None,
    date_to: Annotated[
        str | None,
        typer.Option("--to", help="Last bank day (default: the day of the latest event)."),
    ] = None,
    month: Annotated[
        str | None, typer.Option("--month", help="YYYY-MM: the period is that month.")
    ] = None,
    policy: Annotated[
        str | None, typer.Option("--policy", help="Only cases opened under this profile.")
    ] = None,
    arm: Annotated[
        str | None,
        typer.Option("--arm", help="Only cases opened in this arm (champion, challenger)."),
    ] = None,
    format: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the report to FILE; print its path.")
    ] = None,
) -> None:
    """A report on the live book over bank days, computed in PostgreSQL from the events'
    business times (a past period gives the same answer later). Definitions: docs/REPORTS.md."""
    from arrears.reports.command import report_command as run
    from arrears.settings import load_settings

    text = run(
        load_settings(), kind, date_from=date_from, date_to=date_to, month=month, policy=policy,
        arm=arm, fmt=format, out=out,
    )  # fmt: skip
    print(text, end="\n" if out is not None else "")
