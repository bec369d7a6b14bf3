"""The archive sweep: copy every closed run that is not archived yet into the run archive.

A Temporal Schedule (`arrears-archive-sweep`, created by `arrears up` and by every worker
at start) starts the `ArchiveSweep` workflow every `ARREARS_ARCHIVE_INTERVAL_SECONDS`; its
one activity runs `sweep`. `arrears archive` runs the same sweep once, from the command
line. A sweep lists closed runs through visibility, archives them oldest close time
first (one workflow id's runs one after the other, several workflow ids at once), and
moves a watermark (kept in PostgreSQL) to the close time it has archived everything up
to. The next sweep lists from the watermark less an overlap, because visibility is
eventually consistent: a run may show up there a moment after a later one. Archiving is
idempotent, so re-reading the overlap costs only a lookup. The sweep does not touch the
case workflow: it works for every run however it ended (continue-as-new, completed,
failed, terminated).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import asyncpg
from pydantic import BaseModel, Field
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleUpdate,
    WorkflowExecution,
)

from arrears.logs import get_logger
from arrears.settings import Settings
from arrears.store.archive import ARCHIVED_TYPES, RunArchive, RunStillOpen, fetch_run

SWEEP_WORKFLOW = "ArchiveSweep"
SCHEDULE_ID = "arrears-archive-sweep"
_FETCHES_AT_ONCE = 8
#: Runs one scheduled sweep archives at most: a first sweep over a large book moves the
#: watermark forward step by step instead of all at the end.
SCHEDULED_LIMIT = 1000


class SweepRequest(BaseModel):
    """One sweep. `full` ignores the watermark and lists every closed run Temporal still
    has (an operator's catch-up); `limit` bounds the runs archived by one sweep."""

    full: bool = False
    limit: int | None = Field(default=None, ge=1)
    overlap_seconds: float = Field(default=600.0, ge=0)


class SweepSummary(BaseModel):
    listed: int = 0
    archived: int = 0
    already_archived: int = 0
    gone: int = 0  # listed, but Temporal had deleted the history before it was fetched
    watermark: datetime | None = None


async def sweep(
    client: Client,
    pool: asyncpg.Pool,
    request: SweepRequest,
    heartbeat: Callable[[], None] = lambda: None,
) -> SweepSummary:
    """Archive the closed runs not archived yet, oldest close time first."""
    archive = RunArchive(pool)
    mark = None if request.full else await _watermark(pool, client.namespace)
    since = mark - timedelta(seconds=request.overlap_seconds) if mark else None
    found = []
    async for execution in client.list_workflows(closed_runs_query(since)):
        found.append(execution)
        if len(found) % 1000 == 0:
            heartbeat()  # a first sweep over a large book lists for a while
    listed = sorted(found, key=lambda e: e.close_time or datetime.min.replace(tzinfo=UTC))
    summary = SweepSummary(listed=len(listed), watermark=mark)
    known = await archive.archived_among([e.run_id for e in listed])
    todo = [e for e in listed if e.run_id not in known]
    summary.already_archived = len(listed) - len(todo)
    if request.limit is not None and len(todo) > request.limit:
        # The watermark may pass only what this sweep archives.
        listed = listed[: listed.index(todo[request.limit])]
        todo = todo[: request.limit]
    by_workflow: dict[str, list[WorkflowExecution]] = {}
    for execution in todo:
        by_workflow.setdefault(execution.id, []).append(execution)
    fetching = asyncio.Semaphore(_FETCHES_AT_ONCE)

    async def archive_runs(runs: list[WorkflowExecution]) -> list[bool | None]:
        """One workflow id's runs one after the other, in close order, so its chain
        follows them; several workflow ids at once."""
        done = []
        for execution in runs:
            async with fetching:
                done.append(await _archive_one(client, archive, execution))
        heartbeat()
        return done

    for done in await asyncio.gather(*(archive_runs(r) for r in by_workflow.values())):
        summary.archived += done.count(True)
        summary.gone += done.count(None)
    closed = [e.close_time for e in listed if e.close_time is not None]
    if closed:
        summary.watermark = await _advance(pool, client.namespace, max(closed))
    return summary


def closed_runs_query(since: datetime | None) -> str:
    types = ", ".join(f'"{name}"' for name in ARCHIVED_TYPES)
    query = f'WorkflowType IN ({types}) AND ExecutionStatus != "Running"'
    if since is not None:
        query += f' AND CloseTime >= "{since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")}"'
    return query


async def _archive_one(
    client: Client, archive: RunArchive, execution: WorkflowExecution
) -> bool | None:
    """True archived now, False archived before, None gone from Temporal already."""
    history = await fetch_run(client, execution.id, execution.run_id)
    if history is None:
        get_logger("arrears.archive").warning(
            "closed run gone before it was archived",
            workflow_id=execution.id,
            run_id=execution.run_id,
        )
        return None
    try:
        return await archive.store(history, execution.run_id)
    except RunStillOpen:
        return None  # reset or still closing: visibility ran ahead of the history


async def _watermark(pool: asyncpg.Pool, namespace: str) -> datetime | None:
    value: datetime | None = await pool.fetchval(
        "SELECT closed_at FROM archive_watermark WHERE name = $1", namespace
    )
    return value


async def _advance(pool: asyncpg.Pool, namespace: str, closed_at: datetime) -> datetime:
    """Move the namespace's watermark forward (never back: sweeps may overlap)."""
    value: datetime = await pool.fetchval(
        "INSERT INTO archive_watermark (name, closed_at) VALUES ($1, $2)"
        " ON CONFLICT (name) DO UPDATE SET"
        " closed_at = GREATEST(archive_watermark.closed_at, EXCLUDED.closed_at),"
        " updated_at = now() RETURNING closed_at",
        namespace,
        closed_at,
    )
    return value


def archive_schedule(settings: Settings) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            SWEEP_WORKFLOW,
            SweepRequest(limit=SCHEDULED_LIMIT),
            id=SCHEDULE_ID,
            task_queue=settings.task_queue,
            execution_timeout=timedelta(minutes=30),
        ),
        spec=ScheduleSpec(
            intervals=[
                ScheduleIntervalSpec(every=timedelta(seconds=settings.archive_interval_seconds))
            ]
        ),
        # A sweep still running (or waiting for a worker) makes the next one pointless.
        policy=SchedulePolicy(
            overlap=ScheduleOverlapPolicy.SKIP, catchup_window=timedelta(minutes=1)
        ),
    )


async def ensure_archive_schedule(client: Client, settings: Settings) -> None:
    """Create the sweep's schedule, or bring an existing one to the current settings
    (keeping its state: a sweep an operator paused stays paused)."""
    schedule = archive_schedule(settings)
    try:
        await client.create_schedule(SCHEDULE_ID, schedule)
    except ScheduleAlreadyRunningError:
        await client.get_schedule_handle(SCHEDULE_ID).update(
            lambda current: ScheduleUpdate(
                schedule=replace(schedule, state=current.description.schedule.state)
            )
        )
