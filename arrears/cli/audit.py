"""The `arrears audit` command's options (registered by `arrears.cli`); the work is in
`arrears.audit.modes`, imported when the command runs so other commands start fast."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from arrears.errors import UsageError

if TYPE_CHECKING:
    from arrears.audit.request import AuditRequest


def audit(
    cases: Annotated[
        list[str] | None,
        typer.Argument(
            help="CASE ids (or account ids); with --history: history FILEs; "
            "`export CASE` writes a case's histories and timeline to --out."
        ),
    ] = None,
    all_cases: Annotated[bool, typer.Option("--all", help="Every case on the server.")] = False,
    query: Annotated[
        str | None, typer.Option(help="A visibility query, e.g. 'ArrearsStage = \"legal\"'.")
    ] = None,
    history: Annotated[
        bool, typer.Option("--history", help="CASE arguments are exported history files.")
    ] = False,
    reconcile: Annotated[
        bool, typer.Option(help="With --history: also reconcile with PostgreSQL.")
    ] = False,
    format: Annotated[
        str, typer.Option("--format", help="table, json, jsonl (one case a line) or csv.")
    ] = "table",
    timeline: Annotated[
        bool,
        typer.Option("--timeline", help="Print every case's timeline (one named case: always)."),
    ] = False,
    jobs: Annotated[
        int, typer.Option(help="Audit in J processes (0: one per core); the same results.")
    ] = 1,
    on_workers: Annotated[
        bool,
        typer.Option(
            "--on-workers", help="Run the audit as a workflow on every worker of the task queue."
        ),
    ] = False,
    stuck_after: Annotated[
        str, typer.Option(help="An append in flight longer than this is stuck (90s, 15m, 2h).")
    ] = "15m",
    out: Annotated[Path | None, typer.Option(help="Folder for `audit export`.")] = None,
) -> None:
    """Replay each case's histories against the current code, rebuild its timeline from
    the histories alone, check each contact attempt's record (POLICY §5: a recording on
    every call, two collectors on a visit), and reconcile it with one snapshot of the event
    store. Appends the history shows still running are *in flight*, not problems; with
    --all or --query a summary and only the cases with problems are printed. Exit 1 on
    any problem."""
    from arrears.audit.output import FORMATS
    from arrears.audit.request import AuditRequest, parse_duration

    # Long only by its signature, the table of options typer reads; the work is below.
    args = list(cases or [])
    if args[:1] == ["export"]:
        raise typer.Exit(_export(args, out))
    if format not in FORMATS:
        raise UsageError(f"unknown --format {format!r}: use {', '.join(FORMATS)}")
    request = AuditRequest(
        cases=args, all_cases=all_cases, query=query, history=history, reconcile=reconcile,
        fmt=format, timeline=timeline, jobs=jobs, stuck_after=parse_duration(stuck_after),
        on_workers=on_workers,
    )  # fmt: skip
    raise typer.Exit(_run(request))


def _export(args: list[str], out: Path | None) -> int:
    from arrears.audit.modes import export_case

    if len(args) != 2 or out is None:
        raise UsageError("usage: arrears audit export CASE --out DIR")
    return asyncio.run(export_case(args[1], out))


def _run(request: AuditRequest) -> int:
    from arrears.audit.modes import run_audit

    try:
        return asyncio.run(run_audit(request))
    except KeyboardInterrupt:
        print("arrears: audit interrupted", file=sys.stderr)
        return 130
