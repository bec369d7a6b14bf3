"""`arrears payments FILE`: its argument; the posting is `arrears.cases.payments`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def payments_command(
    file: Annotated[
        Path, typer.Argument(help="CSV or JSON Lines: account_id, amount, date, reference.")
    ],
) -> None:
    """Post a payments file to the cases (one `payment` signal a row; a case that has ended
    records it as unapplied credit). The last line of stdout is the JSON summary; exit
    code 1 if any row was rejected or had no case."""
    from arrears.cases.payments import run_payments

    lines, code = run_payments(file)
    for line in lines:
        print(line, flush=True)
    raise typer.Exit(code)
