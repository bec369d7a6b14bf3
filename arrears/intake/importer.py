"""Operations intake: a placement file becomes one case workflow per good row.

`arrears import FILE` (and `python starter.py FILE`) runs it. The file is streamed
(constant memory), each row validated; a good row is recorded in `placement_records`
(the only home of personal data, sealed under a data key of its own through
`arrears.crypto.vault`: never in plaintext) and its workflow started with bounded concurrency. A
workflow id is the case id, so a second import of the same file (or an interrupted one
run again) starts only what is missing: the rest is "already running". A later file
placing an account whose case has ended starts a new delinquency episode, a new case
`case-<account_id>.<n>` (a closed case is never reopened). Rejections go to a CSV report
with line, column and reason — never the rejected value.

When the profile names a challenger, each new case is drawn into an arm from its account
id (`Arms.draw`, the same for every episode of the account) and started under that arm's
profile, with the arm in its `open` command and in the search attribute `ArrearsArm`. A
case already running keeps the arm it has: its start is refused before anything changes.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import Any, NamedTuple

import asyncpg
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError

from arrears.crypto.vault import PersonalVault, Sealed
from arrears.intake.placement_file import Record, read_placements
from arrears.policies import Arms
from arrears.store.db import Conn
from domain.arms import ARMS
from domain.intake import open_case
from domain.placement import PlacementRow, case_id_for, parse_case_id, personal_fields
from domain.policy import Policy
from workflows.case import CaseWorkflow
from workflows.case_io import BusinessClock, CaseInput
from workflows.case_views import ARM

REPORT_COLUMNS = ("line", "column", "reason")
BATCH = 200  # rows kept in PostgreSQL per statement
DUPLICATE_REASON = "this account_id appears earlier in the same file (line {line})"
ENDED_REASON = (
    "the case {case_id} of this account was ended by an operator ({status}) without an "
    "outcome; a new episode is not started until the case is closed with one"
)


Rejecter = Callable[[int, Sequence[tuple[str, str]]], None]


class _Start(NamedTuple):
    """A kept row on its way to its workflow start."""

    line: int
    row: PlacementRow
    case_id: str  # the episode's case
    placed_before: bool  # an earlier, different file placed this episode already


class _Episode(NamedTuple):
    """An account's latest episode, as `placement_records` has it."""

    case_id: str
    episode: int
    source_file: str
    source_line: int


@dataclass
class ImportSummary:
    started: int = 0
    already_running: int = 0
    rejected: int = 0
    report: str = ""
    rows_read: int = 0
    bytes_read: int = 0
    #: Cases started in each arm, when the profile names a challenger (else None).
    arms: dict[str, int] | None = None

    def contract(self) -> dict[str, Any]:
        """The last line of stdout, exactly as CONTRACTS.md §1 says; with a challenger
        test, also `arms`: the cases started now in each arm (README "Policy profiles")."""
        line: dict[str, Any] = {
            "started": self.started,
            "already_running": self.already_running,
            "rejected": self.rejected,
            "report": self.report,
        }
        if self.arms is not None:
            line["arms"] = dict(self.arms)
        return line


@dataclass
class Importer:
    client: Client
    pool: asyncpg.Pool
    policy: Policy
    task_queue: str
    #: Seals each row's personal data (`arrears.crypto.existing.ready_vault`).
    vault: PersonalVault
    day_seconds: float = 86400.0
    concurrency: int = 64
    summary: ImportSummary = field(default_factory=ImportSummary)
    #: The challenger `policy` names, loaded (`arrears.policies.load_arms`); None: no test.
    challenger: Policy | None = None

    def __post_init__(self) -> None:
        self._arms = Arms(self.policy, self.challenger)
        if self.challenger is not None:
            self.summary.arms = dict.fromkeys(ARMS, 0)

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
        async with self.pool.acquire() as conn:
            await self.vault.lookup_key(conn)  # made (and committed) before any batch
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
                await self._read(records, digest, reject, starts)
                for _ in workers:
                    await starts.put(None)
                await asyncio.gather(*workers)
            finally:
                for task in workers:
                    task.cancel()
        return self.summary

    async def _read(
        self,
        records: Iterator[Record],
        digest: str,
        reject: Rejecter,
        starts: asyncio.Queue[_Start | None],
    ) -> None:
        """Read every row: a bad one is rejected, good ones are kept a batch at a time."""
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
        latest = await self._latest_episodes([row.account_id for _, row in unique])
        ended = await self._ended_in_store(
            {p.case_id for p in latest.values() if p.source_file != digest}
        )
        new: list[tuple[int, PlacementRow, str]] = []
        for line, row in unique:
            prev = latest.get(row.account_id)
            if prev is None:
                new.append((line, row, row.case_id))
            elif prev.source_file == digest and prev.source_line != line:
                reject(line, (("account_id", DUPLICATE_REASON.format(line=prev.source_line)),))
            elif prev.source_file == digest:  # this file again: start what is missing
                await starts.put(_Start(line, row, prev.case_id, False))
            elif prev.case_id in ended:  # defaulted again: a new episode, a new case
                new.append((line, row, case_id_for(row.account_id, prev.episode + 1)))
            else:  # placed again while its case runs: the same delinquency
                await starts.put(_Start(line, row, prev.case_id, True))
        inserted = await self._insert(new, digest)
        for line, row, case_id in new:
            # Not inserted: a concurrent import kept this episode first; its start decides.
            await starts.put(_Start(line, row, case_id, case_id not in inserted))

    async def _latest_episodes(self, account_ids: list[str]) -> dict[str, _Episode]:
        rows = await self.pool.fetch(
            "SELECT DISTINCT ON (account_id) account_id, case_id, episode, source_file,"
            " source_line FROM placement_records WHERE account_id = ANY($1::text[])"
            " ORDER BY account_id, episode DESC",
            account_ids,
        )
        return {
            r["account_id"]: _Episode(
                r["case_id"], r["episode"], r["source_file"], int(r["source_line"])
            )
            for r in rows
        }

    async def _insert(self, rows: list[tuple[int, PlacementRow, str]], digest: str) -> set[str]:
        """Keep the rows, personal data sealed, before their workflows start; the case
        ids kept now (a row another import kept first is left as it is). Rows and their
        data keys commit together: a sealed row never lacks its key."""
        if not rows:
            return set()
        async with self.pool.acquire() as conn, conn.transaction():
            columns, sealed = await _columns(conn, self.vault, rows, digest)
            kept = await conn.fetch(
                """INSERT INTO placement_records
                       (case_id, account_id, episode, facts, source_file, source_line,
                        personal_sealed, name_hash)
                   SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::jsonb[],
                                        $5::text[], $6::int[], $7::bytea[], $8::bytea[])
                   ON CONFLICT DO NOTHING
                   RETURNING case_id""",
                *columns,
            )
            inserted = {r["case_id"] for r in kept}
            await self.vault.keep(conn, (s for s in sealed if s.case_id in inserted))
        return inserted

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
        places an account whose workflow an operator ended without an outcome
        (terminated), the row is rejected with that reason rather than counted as
        running: operations must see that the new delinquency is not being collected."""
        row = item.row
        arm = self._arms.draw(row.account_id)
        case_input = CaseInput(
            case_id=item.case_id,
            policy=self._arms.policy_for(arm),
            clock=BusinessClock(origin=None, day_seconds=self.day_seconds),
            open=open_case(row, arm),
            other_arm=self._arms.other_than(arm),
        )
        try:
            await self.client.start_workflow(
                CaseWorkflow.run,
                case_input,
                id=item.case_id,
                task_queue=self.task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
                # Set at the start: the arm is fixed when the case opens (only a recorded
                # `move_arm` override upserts it), so no workflow command had to change.
                search_attributes=TypedSearchAttributes([SearchAttributePair(ARM, arm)]),
            )
        except WorkflowAlreadyStartedError:
            status = await self._ended(item.case_id) if item.placed_before else None
            if status is not None:
                reason = ENDED_REASON.format(case_id=item.case_id, status=status)
                reject(item.line, (("account_id", reason),))
            else:
                self.summary.already_running += 1
            return
        self.summary.started += 1
        if self.summary.arms is not None:
            self.summary.arms[arm] += 1

    async def _ended(self, case_id: str) -> str | None:
        """How the case's workflow ended (`terminated`, ...), None if it runs: for a case
        ended without an outcome in the store (an operator terminated its workflow)."""
        description = await self.client.get_workflow_handle(case_id).describe()
        status = description.status
        if status is None or status == WorkflowExecutionStatus.RUNNING:
            return None
        return status.name.lower()


async def _columns(
    conn: Conn, vault: PersonalVault, rows: list[tuple[int, PlacementRow, str]], digest: str
) -> tuple[list[list[Any]], list[Sealed]]:
    """The batch as one array per column, for a single `unnest` insert, and each row's
    personal data sealed under a new data key."""
    columns: list[list[Any]] = [[], [], [], [], [], [], [], []]
    sealed: list[Sealed] = []
    for line, row, case_id in rows:
        data = row.model_dump(mode="json")
        personal = {k: v for k, v in data.items() if k in personal_fields}
        facts = {k: v for k, v in data.items() if k not in personal_fields}
        episode = parse_case_id(case_id)[1]
        sealed.append(seal := await vault.seal_new(conn, case_id, personal))
        values = (case_id, row.account_id, episode, facts, digest, line,
                  seal.personal_sealed, seal.name_hash)  # fmt: skip
        for column, value in zip(columns, values, strict=True):
            column.append(value)
    return columns, sealed


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
