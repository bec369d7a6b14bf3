"""The run archive: every closed run's history, kept in PostgreSQL for as long as the
records must be kept (POLICY.md: 5 years), because Temporal deletes a closed run's
history once the namespace's retention has passed.

A run is stored once (by run id), in Temporal's own JSON export format, gzip-compressed,
with the sha256 of the JSON, and hash-chained to the runs of its workflow id archived
before it (`chain_hash`, as the event store chains events). Reading it back verifies all
three, so an archive row that was altered, removed or re-ordered is named, never replayed.

`case_runs` is what the audit reads: the runs of a workflow id from Temporal and from the
archive, merged by run id and ordered by start time; a run that the histories refer to
(continue-as-new links) but that is in neither place is a problem.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import asyncpg
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHistory
from temporalio.service import RPCError, RPCStatusCode

from arrears.store.events import GENESIS, chain_hash

#: The workflow types whose runs are archived (and that `arrears audit --all` finds there).
ARCHIVED_TYPES: tuple[str, ...] = ("Case",)

_CLOSE_STATUS = {
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED: "completed",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW: "continued_as_new",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED: "failed",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT: "timed_out",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED: "canceled",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED: "terminated",
}


class RunStillOpen(ValueError):
    """Only closed runs are archived: an open run's history is still growing."""


@dataclass(frozen=True)
class RunInfo:
    """What the archive records about a run besides its history, read from the history."""

    workflow_id: str
    run_id: str
    workflow_type: str
    started_at: datetime
    closed_at: datetime
    close_status: str

    @staticmethod
    def of(history: WorkflowHistory, run_id: str) -> RunInfo:
        first, last = history.events[0], history.events[-1]
        status = _CLOSE_STATUS.get(last.event_type)
        if status is None:
            raise RunStillOpen(f"{history.workflow_id} run {run_id} has not closed")
        started = first.workflow_execution_started_event_attributes
        return RunInfo(
            workflow_id=history.workflow_id,
            run_id=run_id,
            workflow_type=started.workflow_type.name,
            # Microseconds, as PostgreSQL keeps them: the chained values read back equal.
            started_at=first.event_time.ToDatetime(tzinfo=UTC),
            closed_at=last.event_time.ToDatetime(tzinfo=UTC),
            close_status=status,
        )

    def chained(self, history_sha256: str) -> dict[str, Any]:
        """What a row's hash covers: everything about the run, the history by its digest."""
        return {
            "workflow_id": self.workflow_id,
            "run_id": self.run_id,
            "workflow_type": self.workflow_type,
            "started_at": self.started_at.astimezone(UTC).isoformat(),
            "closed_at": self.closed_at.astimezone(UTC).isoformat(),
            "close_status": self.close_status,
            "history_sha256": history_sha256,
        }


@dataclass
class FoundRuns:
    """The runs of one workflow id, oldest first, and what could not be verified."""

    histories: list[WorkflowHistory] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    from_archive: int = 0  # runs read from the archive because Temporal no longer has them


class RunArchive:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def store(self, history: WorkflowHistory, run_id: str) -> bool:
        """Archive one closed run; False when it was archived already (a no-op)."""
        info = RunInfo.of(history, run_id)
        # Off the event loop: a worker's workflows must not wait for a long history's JSON.
        compressed, digest = await asyncio.to_thread(_packed, history)
        async with self._pool.acquire() as conn, conn.transaction():
            # One writer per workflow id at a time: the chain needs the previous row's hash.
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", info.workflow_id)
            if await conn.fetchval("SELECT 1 FROM run_archive WHERE run_id = $1", run_id):
                return False
            last = await conn.fetchrow(
                "SELECT position, hash FROM run_archive WHERE workflow_id = $1"
                " ORDER BY position DESC LIMIT 1",
                info.workflow_id,
            )
            position, prev = (last["position"] + 1, last["hash"]) if last else (1, GENESIS)
            try:
                await conn.execute(
                    "INSERT INTO run_archive (workflow_id, position, run_id, workflow_type,"
                    " started_at, closed_at, close_status, history, history_sha256, prev_hash,"
                    " hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                    info.workflow_id, position, run_id, info.workflow_type, info.started_at,
                    info.closed_at, info.close_status, compressed, digest, prev,
                    chain_hash(prev, info.chained(digest)),
                )  # fmt: skip
            except asyncpg.UniqueViolationError:
                return False  # the same run id archived meanwhile: the same run
        return True

    async def archived_among(self, run_ids: list[str]) -> set[str]:
        rows = await self._pool.fetch(
            "SELECT run_id FROM run_archive WHERE run_id = ANY($1::text[])", run_ids
        )
        return {r["run_id"] for r in rows}

    async def workflow_ids(self) -> list[str]:
        rows = await self._pool.fetch(
            "SELECT DISTINCT workflow_id FROM run_archive WHERE workflow_type = ANY($1::text[])",
            list(ARCHIVED_TYPES),
        )
        return [r["workflow_id"] for r in rows]

    async def runs(self, workflow_id: str) -> tuple[dict[str, WorkflowHistory], list[str]]:
        """Every archived run of a workflow id that verifies, by run id, and a sentence for
        each row that does not (left out: an altered history is never replayed)."""
        rows = await self._pool.fetch(
            "SELECT * FROM run_archive WHERE workflow_id = $1 ORDER BY position", workflow_id
        )
        runs: dict[str, WorkflowHistory] = {}
        problems: list[str] = []
        expected_prev, expected_position = GENESIS, 1
        for row in rows:
            if row["position"] != expected_position:
                problems.append(f"archive: run at position {expected_position} is missing")
            if row["prev_hash"] != expected_prev:
                problems.append(
                    f"archive: run {row['run_id']} does not link to the run archived before it"
                )
            expected_prev, expected_position = row["hash"], row["position"] + 1
            history, problem = _verified(workflow_id, row)
            if problem:
                problems.append(f"archive: run {row['run_id']} {problem}")
            if history is not None:
                runs[row["run_id"]] = history
        return runs, problems


def _packed(history: WorkflowHistory) -> tuple[bytes, str]:
    """The history's JSON gzip-compressed, and the JSON's sha256."""
    text = history.to_json().encode()
    return gzip.compress(text, mtime=0), hashlib.sha256(text).hexdigest()


def _verified(workflow_id: str, row: asyncpg.Record) -> tuple[WorkflowHistory | None, str]:
    info = RunInfo(
        workflow_id=row["workflow_id"], run_id=row["run_id"],
        workflow_type=row["workflow_type"], started_at=row["started_at"],
        closed_at=row["closed_at"], close_status=row["close_status"],
    )  # fmt: skip
    if chain_hash(row["prev_hash"], info.chained(row["history_sha256"])) != row["hash"]:
        return None, "is altered: its record does not match its hash"
    try:
        text = gzip.decompress(row["history"])
    except (OSError, EOFError):
        return None, "is altered: its history does not decompress"
    if hashlib.sha256(text).hexdigest() != row["history_sha256"]:
        return None, "is altered: its history does not match its hash"
    return WorkflowHistory.from_json(workflow_id, json.loads(text)), ""


async def case_runs(client: Client, pool: asyncpg.Pool | None, workflow_id: str) -> FoundRuns:
    """Every run of a workflow id, oldest first: Temporal's copy while it has one, else the
    archive's (verified). Runs that a history links to but that are in neither place,
    archive rows that do not verify, and archived copies that differ from Temporal's while
    it still has the run (a forged row re-hashed to fit) are problems. Without a pool:
    Temporal's runs only."""
    archived, problems = await RunArchive(pool).runs(workflow_id) if pool else ({}, [])
    listed = [e.run_id async for e in client.list_workflows(f'WorkflowId = "{workflow_id}"')]
    found = FoundRuns(problems=problems)
    merged: dict[str, WorkflowHistory] = {}
    wanted = list(dict.fromkeys([*listed, *archived]))
    while wanted:
        run_id = wanted.pop(0)
        if run_id in merged:
            continue
        history = await fetch_run(client, workflow_id, run_id)
        if history is not None and run_id in archived and history.events != archived[run_id].events:
            found.problems.append(f"archive: run {run_id} differs from Temporal's copy")
        if history is None and run_id in archived:
            history = archived[run_id]
            found.from_archive += 1
        if history is None:
            found.problems.append(f"run {run_id} is neither on Temporal nor in the archive")
            continue
        merged[run_id] = history
        wanted += [linked for linked in _linked_runs(history) if linked not in merged]
    found.histories = sorted(merged.values(), key=lambda h: h.events[0].event_time.ToDatetime())
    return found


async def fetch_run(client: Client, workflow_id: str, run_id: str) -> WorkflowHistory | None:
    """A run's history from Temporal; None once Temporal has deleted it."""
    try:
        return await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return None
        raise


def _linked_runs(history: WorkflowHistory) -> list[str]:
    """The runs before and after this one in its continue-as-new chain."""
    first, last = history.events[0], history.events[-1]
    linked = [first.workflow_execution_started_event_attributes.continued_execution_run_id]
    if last.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
        linked.append(
            last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id
        )
    return [run_id for run_id in linked if run_id]
