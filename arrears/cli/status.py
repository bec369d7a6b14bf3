"""`arrears status [CASE]`: its argument and option; what is read and shown is
`arrears.cases.status`."""

from __future__ import annotations

from typing import Annotated

import typer


def status_command(
    case: Annotated[
        str | None, typer.Argument(help="Account id or case id; none: counts of the book.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """One case (stage, balance, placement, holds, next action, last contacts), or open
    cases by stage and bucket from Temporal and from PostgreSQL, side by side."""
    from arrears.cases.status import run_status

    run_status(case, as_json)
