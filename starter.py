"""Operations intake: a placement file becomes one case workflow per good row.

`arrears import FILE` runs `main()`. The file is streamed (constant memory), each row
validated; a good row is recorded in `placement_records` (the only home of personal data)
and its workflow started with bounded concurrency. A workflow id is the case id, so a
second import of the same file (or an interrupted one run again) starts only what is
missing: the rest is "already running". A later file placing an account whose case has
ended is rejected with that reason (a closed case is not reopened). Rejections go to a CSV
report with line, column and reason — never the rejected value.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import sys
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import Any, NamedTuple

import asyncpg
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from arrears.placement_file import Record, read_placements
from domain.intake import open_case
from domain.placement import PlacementRow, personal_fields
from domain.policy import Policy
from workflows.case import CaseWorkflow
from workflows.case_io import BusinessClock, CaseInput

REPORT_COLUMNS = ("line", "column", "reason")
BATCH = 200  # rows kept in PostgreSQL per statement
DUPLICATE_REASON = "this account_id appears earlier in the same file (line {line})"
ENDED_REASON = (
    "the case {case_id} of this account has ended ({status}); a new placement of an account "
    "whose case has ended is not started (a closed case is not reopened)"
)


Rejecter = Callable[[int, Sequence[tuple[str, str]]], None]


class _Start(NamedTuple):
    """A kept row on its way to its workflow start."""

    line: int
    row: PlacementRow
    placed_before: bool  # an earlier, different file placed this account already


@dataclass
class ImportSummary:
    started: int = 0
    already_running: int = 0
    rejected: int = 0
    report: str = ""
    rows_read: int = 0
    bytes_read: int = 0

    def contract(self) -> dict[str, Any]:
        """The last line of stdout, exactly as CONTRACTS.md §1 says."""
        return {
            "started": self.started,
            "already_running": self.already_running,
            "rejected": self.rejected,
            "report": self.report,
        }


@dataclass
class Importer:
    client: Client
    pool: asyncpg.Pool
    policy: Policy
    task_queue: str
    day_seconds: float = 86400.0
    concurrency: int = 64
    summary: ImportSummary = field(default_factory=ImportSummary)

    async def run(
        self,
        records: Iterator[Record],
        digest: str,
        report: Path,
        progress: Callable[[ImportSummary], None] | None = None,
    ) -> ImportSummary:
        """Import `records` (from `open_placements`), writing rejections to `report`.

        Rows are kept in PostgreSQL a batch at a time (one statement per `BATCH` rows)
        while up to `concurrency` workflow starts are in flight; the queue between the
        two is bounded, so memory stays flat whatever the file's size.
        """
        self.summary.report = str(report)
        starts: asyncio.Queue[_Start | None] = asyncio.Queue(maxsize=self.concurrency * 4)
        with report.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(REPORT_COLUMNS)

            def reject(line: int, problems: Sequence[tuple[str, str]]) -> None:
                """One rejected row: counted once, one report line per problem."""
                for column, reason in problems:
                    writer.writerow((line, column, reason))
                self.summary.rejected += 1
                if progress:
                    progress(self.summary)

            async def start_rows() -> None:
                while (item := await starts.get()) is not None:
                    await self._start(item, reject)
                    if progress:
                        progress(self.summary)

            workers = [asyncio.create_task(start_rows()) for _ in range(self.concurrency)]
            try:
                batch: list[tuple[int, PlacementRow]] = []
                async for record in _paced(records):
                    self.summary.rows_read += 1
                    if record.row is None:
                        reject(record.line, record.errors or (("", "is not a valid row"),))
                        continue
                    batch.append((record.line, record.row))
                    if len(batch) >= BATCH:
                        await self._keep(batch, digest, reject, starts)
                        batch = []
                await self._keep(batch, digest, reject, starts)
                for _ in workers:
                    await starts.put(None)
                await asyncio.gather(*workers)
            finally:
                for task in workers:
                    task.cancel()
        return self.summary

    async def _keep(
        self,
        batch: list[tuple[int, PlacementRow]],
        digest: str,
        reject: Rejecter,
        starts: asyncio.Queue[_Start | None],
    ) -> None:
        """Keep a batch of rows (personal data included) before their workflows start,
        and queue the starts. An account already seen earlier in the same file is
        rejected; a re-run of the same file (same line) or a later file placing the
        account again goes on to the start, which finds the case already there."""
        first_line: dict[str, int] = {}
        unique: list[tuple[int, PlacementRow]] = []
        for line, row in batch:
            if row.case_id in first_line:
                reject(
                    line, (("account_id", DUPLICATE_REASON.format(line=first_line[row.case_id])),)
                )
            else:
                first_line[row.case_id] = line
                unique.append((line, row))
        if not unique:
            return
        stored = await self.pool.fetch(
            """INSERT INTO placement_records
                   (case_id, account_id, personal, facts, source_file, source_line)
               SELECT * FROM unnest($1::text[], $2::text[], $3::jsonb[], $4::jsonb[],
                                    $5::text[], $6::int[])
               ON CONFLICT (case_id) DO UPDATE SET case_id = placement_records.case_id
               RETURNING case_id, source_file, source_line, (xmax = 0) AS inserted""",
            *_columns(unique, digest),
        )
        earlier = {
            r["case_id"]: int(r["source_line"])
            for r in stored
            if not r["inserted"] and r["source_file"] == digest
        }
        elsewhere = {
            r["case_id"] for r in stored if not r["inserted"] and r["source_file"] != digest
        }
        ended = await self._ended_in_store(elsewhere)
        for line, row in unique:
            if earlier.get(row.case_id, line) != line:
                reject(line, (("account_id", DUPLICATE_REASON.format(line=earlier[row.case_id])),))
            elif row.case_id in ended:
                reason = ENDED_REASON.format(case_id=row.case_id, status=ended[row.case_id])
                reject(line, (("account_id", reason),))
            else:
                await starts.put(_Start(line, row, row.case_id in elsewhere))

    async def _ended_in_store(self, case_ids: set[str]) -> dict[str, str]:
        """{case id: outcome} of the cases the event store shows ended. Asked before the
        start, because Temporal forgets an ended workflow after its retention period: the
        start would then succeed, and the new case's events would collide with the old."""
        if not case_ids:
            return {}
        rows = await self.pool.fetch(
            "SELECT case_id, outcome FROM cases"
            " WHERE case_id = ANY($1::text[]) AND outcome IS NOT NULL",
            sorted(case_ids),
        )
        return {r["case_id"]: r["outcome"] for r in rows}

    async def _start(self, item: _Start, reject: Rejecter) -> None:
        """Start the row's case; a case already there is left alone. When a later file
        places an account whose case has ended (cured, settled, closed, terminated), the
        row is rejected with that reason rather than counted as running: starting it
        would need a new case identity (DECISIONS: re-placement), and operations must
        see that the new delinquency is not being collected."""
        row = item.row
        case_input = CaseInput(
            case_id=row.case_id,
            policy=self.policy,
            clock=BusinessClock(origin=None, day_seconds=self.day_seconds),
            open=open_case(row),
        )
        try:
            await self.client.start_workflow(
                CaseWorkflow.run,
                case_input,
                id=row.case_id,
                task_queue=self.task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            )
        except WorkflowAlreadyStartedError:
            status = await self._ended(row.case_id) if item.placed_before else None
            if status is not None:
                reason = ENDED_REASON.format(case_id=row.case_id, status=status)
                reject(item.line, (("account_id", reason),))
            else:
                self.summary.already_running += 1
            return
        self.summary.started += 1

    async def _ended(self, case_id: str) -> str | None:
        """How the case's workflow ended (`terminated`, ...), None if it runs: for a case
        ended without an outcome in the store (an operator terminated its workflow)."""
        description = await self.client.get_workflow_handle(case_id).describe()
        status = description.status
        if status is None or status == WorkflowExecutionStatus.RUNNING:
            return None
        return status.name.lower()


def _columns(rows: list[tuple[int, PlacementRow]], digest: str) -> list[list[Any]]:
    """The batch as one array per column, for a single `unnest` insert."""
    columns: list[list[Any]] = [[], [], [], [], [], []]
    for line, row in rows:
        data = row.model_dump(mode="json")
        personal = {k: v for k, v in data.items() if k in personal_fields}
        facts = {k: v for k, v in data.items() if k not in personal_fields}
        for column, value in zip(
            columns, (row.case_id, row.account_id, personal, facts, digest, line), strict=True
        ):
            column.append(value)
    return columns


def open_placements(path: Path) -> tuple[Iterator[Record], str]:
    """The file's records and digest, or `PlacementFileError` (exit 2) before anything is
    started or even connected: the header and first record are read here."""
    records = read_placements(path)
    first = next(records, None)
    return (chain([first], records) if first is not None else iter(())), _file_digest(path)


async def _paced(records: Iterator[Record]) -> AsyncIterator[Record]:
    for record in records:
        yield record
        await asyncio.sleep(0)  # let the starters run while the file is read


def _file_digest(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            sha.update(chunk)
    return sha.hexdigest()


def default_report_path(path: Path) -> Path:
    return path.with_name(path.name + ".rejected.csv")


def main() -> None:
    from arrears.cli import main as cli_main

    cli_main(["import", *sys.argv[1:]])


if __name__ == "__main__":
    main()
