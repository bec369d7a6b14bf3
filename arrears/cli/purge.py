"""`arrears purge`: its options; what is purged, and every check, is `arrears.store.purge`."""

from __future__ import annotations

from typing import Annotated

import typer


def purge_command(
    before: Annotated[str, typer.Option(help="YYYY-MM-DD: purge cases closed long before it.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would go.")] = False,
    apply: Annotated[bool, typer.Option("--apply", help="Purge, and record it.")] = False,
    actor: Annotated[str | None, typer.Option(help="Id of who runs it (never a name).")] = None,
) -> None:
    """Remove the personal data of cases closed longer ago than the policy's retention
    (events, read models and money stay). The last line of stdout is the JSON summary."""
    from arrears.store.purge import run_purge

    for line in run_purge(before, dry_run, apply, actor):
        print(line, flush=True)
