"""`arrears import FILE`: the command around `arrears.intake.importer.Importer`: connections, the
progress bar on a terminal, and the summary (CONTRACTS.md §1)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from arrears.crypto.existing import ready_vault
from arrears.errors import UsageError
from arrears.intake.importer import Importer, ImportSummary, default_report_path, open_placements
from arrears.intake.placement_file import Record
from arrears.policies import load_arms
from arrears.settings import Settings
from arrears.stack.temporal import connect
from arrears.store.db import create_pool, migrate


def estimate_rows(path: Path) -> int:
    """Rows in the file, estimated from the first megabyte (for the ETA only)."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        head = handle.read(1 << 20)
    lines = max(head.count(b"\n"), 1)
    return max(1, round(size / (len(head) / lines)) - 1)


async def run_import(path: Path, report: Path | None, day_seconds: float, concurrency: int) -> int:
    settings = Settings()
    if day_seconds <= 0:
        raise UsageError("--day-seconds must be positive")
    records, digest = open_placements(path)  # a bad file stops here: exit 2, nothing started
    arms = load_arms(settings.policy)  # a profile or its challenger unfit: exit 2
    report_path = report or default_report_path(path)
    client = await connect(settings)
    pool = await create_pool(settings.db_url, max_size=min(concurrency, 20))
    try:
        await migrate(pool)
        async with pool.acquire() as conn:  # a missing or wrong key: exit 3, nothing kept
            vault = await ready_vault(conn, os.environ, settings.home)
        importer = Importer(
            client=client,
            pool=pool,
            policy=arms.champion,
            challenger=arms.challenger,
            task_queue=settings.task_queue,
            vault=vault,
            day_seconds=day_seconds,
            concurrency=concurrency,
        )
        console = Console(stderr=True)
        if console.is_terminal:
            summary = await _with_progress(importer, records, digest, report_path, path, console)
        else:
            summary = await importer.run(records, digest, report_path)
    finally:
        await pool.close()
    if console.is_terminal:
        console.print(
            f"[bold]{summary.started}[/] started, {summary.already_running} already running, "
            f"{summary.rejected} rejected (report: {summary.report})"
            + (f"; by arm: {summary.arms}" if summary.arms is not None else "")
        )
    print(json.dumps(summary.contract(), ensure_ascii=False), flush=True)
    return 1 if summary.rejected else 0


async def _with_progress(
    importer: Importer,
    records: Iterator[Record],
    digest: str,
    report: Path,
    path: Path,
    console: Console,
) -> ImportSummary:
    columns = (
        TextColumn("importing"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]:.0f} rows/s"),
        TimeRemainingColumn(),
        TextColumn(
            "started {task.fields[started]} · running {task.fields[running]}"
            " · rejected {task.fields[rejected]}"
        ),
    )
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task(
            "import", total=estimate_rows(path), rate=0.0, started=0, running=0, rejected=0
        )

        def update(summary: ImportSummary) -> None:
            done = summary.started + summary.already_running + summary.rejected
            elapsed = bar.tasks[0].elapsed or 1e-9
            bar.update(task, completed=done, rate=done / elapsed, started=summary.started,
                       running=summary.already_running, rejected=summary.rejected)  # fmt: skip

        result = await importer.run(records, digest, report, update)
        update(result)
        bar.update(task, total=bar.tasks[0].completed)
        return result
