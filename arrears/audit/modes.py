"""`arrears audit`: replay, rebuild and reconcile cases, from the server or from files.

    arrears audit CASE...                  cases on the configured Temporal server
    arrears audit --all | --query 'ArrearsStage = "legal"'   [--jobs N | --on-workers]
    arrears audit --history FILE...        exported histories (add --reconcile for PostgreSQL)
    arrears audit export CASE --out DIR    every run's history and the rebuilt timeline

Exit code 0 when no case has a problem (appends in flight are not problems), 1 with a
report of each problem.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from rich.console import Console
from rich.progress import Progress

from arrears.audit.case import audit_case
from arrears.audit.histories import read_history, write_runs
from arrears.audit.jobs import (
    audit_chunk,
    audit_files,
    audit_files_chunk,
    reports_in_processes,
    start_process,
)
from arrears.audit.output import AuditPrinter
from arrears.audit.request import AuditRequest
from arrears.audit.runner import AuditOptions, Auditor, ServerSource, case_ids
from arrears.errors import UsageError
from arrears.settings import Settings
from arrears.spawned import cores, process_pool
from arrears.stack.temporal import connect
from arrears.store.db import create_pool


def _case_id(value: str) -> str:
    return value if value.startswith("case-") else f"case-{value}"


def _group_history_files(files: Sequence[Path]) -> list[list[Path]]:
    """Run files grouped by case (file stem `STEM.run-NN.json`, as `audit export` writes
    them), each group in run order; an unreadable file is bad usage."""
    grouped: dict[str, list[Path]] = {}
    for path in sorted(files):
        try:
            read_history(path)
        except (OSError, ValueError, KeyError) as err:
            raise UsageError(f"{path}: not an exported workflow history: {err}") from None
        grouped.setdefault(path.name.split(".run-")[0], []).append(path)
    return list(grouped.values())


async def run_audit(request: AuditRequest) -> int:
    if request.jobs < 0:
        raise UsageError("--jobs must be 0 (one per core) or more")
    printer = AuditPrinter(request.fmt)
    if request.history:
        await _audit_files(request, printer)
    else:
        await _audit_server(request, printer)
    printer.finish()
    return 1 if printer.summary.problems else 0


async def _audit_files(request: AuditRequest, printer: AuditPrinter) -> None:
    if not request.cases:
        raise UsageError("--history needs at least one FILE")
    cases = _group_history_files([Path(c) for c in request.cases])
    options = AuditOptions(request.stuck_after, request.timelines(len(cases)))
    processes = min(request.jobs or cores(), len(cases))
    if processes > 1:
        with process_pool(processes, start_process) as pool:
            async for report in reports_in_processes(
                pool, processes, audit_files_chunk, cases, options, request.reconcile
            ):
                printer.add(report)
        return
    db = await create_pool(Settings().db_url, max_size=2) if request.reconcile else None
    try:
        for paths in cases:
            printer.add(await audit_files(paths, options, db))
    finally:
        if db is not None:
            await db.close()


async def _audit_server(request: AuditRequest, printer: AuditPrinter) -> None:
    if not request.cases and not request.all_cases and not request.query:
        raise UsageError("name CASE ids, or use --all, --query or --history")
    settings = Settings()
    client = await connect(settings)
    named = [_case_id(c) for c in request.cases]
    if request.on_workers:
        from arrears.audit.book import audit_on_workers

        await audit_on_workers(client, settings, request, named, printer)
        return
    if not named:
        db = await create_pool(settings.db_url, max_size=2)
        try:
            named = await case_ids(client, request.query or "", db)
        finally:
            await db.close()
    ids = named
    options = AuditOptions(request.stuck_after, request.timelines(len(ids)))
    processes = min(request.jobs or cores(), len(ids))
    with _progress(len(ids)) as advance:
        if processes > 1:
            with process_pool(processes, start_process) as pool:
                async for report in reports_in_processes(
                    pool, processes, audit_chunk, ids, options
                ):
                    printer.add(report)
                    advance()
            return
        db = await create_pool(settings.db_url, max_size=2)
        try:
            auditor = Auditor(client, db, options)
            for case_id in ids:
                printer.add(await auditor.audit(case_id))
                advance()
        finally:
            await db.close()


@contextlib.contextmanager
def _progress(total: int) -> Iterator[Callable[[], None]]:
    """A progress bar on stderr when it is a terminal and there is more than one case."""
    if total < 2 or not sys.stderr.isatty():
        yield lambda: None
        return
    with Progress(console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("auditing", total=total)
        yield lambda: progress.advance(task)


async def export_case(case: str, out: Path) -> int:
    settings = Settings()
    client = await connect(settings)
    case_id = _case_id(case)
    runs = await ServerSource(client).runs(case_id)
    if not runs:
        print(f"arrears: no such case: {case_id}", file=sys.stderr)
        return 1
    paths = write_runs(runs, out, case_id)
    audit = await audit_case(case_id, runs, None)
    timeline_path = out / f"{case_id}.timeline.json"
    timeline_path.write_text(audit.timeline().model_dump_json(indent=2) + "\n", encoding="utf-8")
    print(
        json.dumps(
            {"case_id": case_id, "runs": [str(p) for p in paths], "timeline": str(timeline_path)}
        )
    )
    return 0
