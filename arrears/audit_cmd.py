"""`arrears audit`: replay, rebuild and reconcile cases, from the server or from files.

    arrears audit CASE...                  cases on the configured Temporal server
    arrears audit --all | --query 'ArrearsStage = "legal"'
    arrears audit --history FILE...        exported histories (add --reconcile for PostgreSQL)
    arrears audit export CASE --out DIR    every run's history and the rebuilt timeline

Exit code 0 when every case verifies, 1 with a report of each problem.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import asyncpg
from rich.console import Console
from rich.table import Table
from temporalio.client import Client, WorkflowHistory

from arrears.archive import RunArchive, case_runs
from arrears.audit import CaseAudit, audit_case, case_input_of
from arrears.db import create_pool
from arrears.errors import UsageError
from arrears.histories import read_history, write_runs
from arrears.settings import Settings
from arrears.stack.temporal import connect


def _case_id(value: str) -> str:
    return value if value.startswith("case-") else f"case-{value}"


async def _case_ids(client: Client, pool: asyncpg.Pool, query: str) -> list[str]:
    """The cases a visibility query finds; with no query (`--all`), also every case whose
    runs are only in the archive any more (a query cannot be run against the archive)."""
    seen: dict[str, None] = {}
    async for execution in client.list_workflows(
        f'WorkflowType = "Case" AND ({query})' if query else 'WorkflowType = "Case"'
    ):
        seen.setdefault(execution.id, None)
    if not query:
        seen.update(dict.fromkeys(await RunArchive(pool).workflow_ids()))
    return sorted(seen)


async def _audit_from_everywhere(client: Client, pool: asyncpg.Pool, case_id: str) -> CaseAudit:
    """Audit a case's runs from Temporal and the archive; the archive's own problems (an
    altered row, a run in neither place) are the case's problems."""
    found = await case_runs(client, pool, case_id)
    audit = await audit_case(case_id, found.histories, pool)
    audit.problems[:0] = found.problems
    return audit


def _group_history_files(files: Sequence[Path]) -> dict[str, list[WorkflowHistory]]:
    """Runs grouped by file stem (`STEM.run-NN.json`, as `audit export` writes them), in
    run order."""
    grouped: dict[str, list[WorkflowHistory]] = {}
    for path in sorted(files):
        try:
            history = read_history(path)
        except (OSError, ValueError, KeyError) as err:
            raise UsageError(f"{path}: not an exported workflow history: {err}") from None
        grouped.setdefault(path.name.split(".run-")[0], []).append(history)
    return grouped


async def run_audit(
    cases: Sequence[str], all_cases: bool, query: str | None, history: bool,
    reconcile: bool, fmt: str,
) -> int:  # fmt: skip
    settings = Settings()
    pool: asyncpg.Pool | None = None
    audits: list[CaseAudit] = []
    try:
        if history:
            if not cases:
                raise UsageError("--history needs at least one FILE")
            grouped = _group_history_files([Path(c) for c in cases])
            if reconcile:
                pool = await create_pool(settings.db_url, max_size=2)
            for runs in grouped.values():
                case_id = case_input_of(runs[0]).case_id
                audits.append(await audit_case(case_id, runs, pool))
        else:
            if not cases and not all_cases and not query:
                raise UsageError("name CASE ids, or use --all, --query or --history")
            client = await connect(settings)
            pool = await create_pool(settings.db_url, max_size=2)
            ids = [_case_id(c) for c in cases] or await _case_ids(client, pool, query or "")
            for case_id in ids:
                audits.append(await _audit_from_everywhere(client, pool, case_id))
    finally:
        if pool is not None:
            await pool.close()
    _print(audits, fmt)
    return 1 if any(a.problems for a in audits) else 0


async def export_case(case: str, out: Path) -> int:
    settings = Settings()
    client = await connect(settings)
    case_id = _case_id(case)
    pool = await create_pool(settings.db_url, max_size=2)
    try:
        runs = (await case_runs(client, pool, case_id)).histories
    finally:
        await pool.close()
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


def _print(audits: list[CaseAudit], fmt: str) -> None:
    if fmt == "json":
        document = [
            {
                "case_id": a.case_id,
                "verified": not a.problems,
                "problems": a.problems,
                "timeline": json.loads(a.timeline().model_dump_json()) if a.events else None,
            }
            for a in audits
        ]
        print(json.dumps(document, ensure_ascii=False, indent=2))
        return
    if fmt == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow(("case_id", "seq", "at", "type", "details"))
        for a in audits:
            for event in a.timeline().events if a.events else []:
                details = {k: v for k, v in event.items() if k not in ("seq", "at", "type")}
                writer.writerow(
                    (
                        a.case_id,
                        event["seq"],
                        event["at"],
                        event["type"],
                        json.dumps(details, ensure_ascii=False),
                    )
                )
        for a in audits:
            for problem in a.problems:
                print(f"arrears: {a.case_id}: {problem}", file=sys.stderr)
        return
    console = Console()
    for a in audits:
        table = Table(title=f"{a.case_id}: {'verified' if not a.problems else 'PROBLEMS'}")
        for column in ("seq", "at", "type", "details"):
            table.add_column(column)
        for event in a.timeline().events if a.events else []:
            shown = ", ".join(
                f"{k}={v}"
                for k, v in event.items()
                if k not in ("seq", "at", "type", "account") and v not in (None, [], {})
            )
            table.add_row(str(event["seq"]), event["at"], event["type"], shown[:120])
        console.print(table)
        for problem in a.problems:
            console.print(f"[red]problem[/]: {a.case_id}: {problem}")
