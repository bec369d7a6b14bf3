"""Histories outlive Temporal's retention (issue 12): `arrears up` sets the namespace's
retention and schedules the archive sweep; the sweep archives every run of a case once;
a case whose runs Temporal has deleted is audited from the archive, and a tampered
archive row is named."""

from __future__ import annotations

import gzip
import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import (
    DeleteWorkflowExecutionRequest,
    DescribeNamespaceRequest,
)
from temporalio.client import Client, ScheduleActionStartWorkflow
from temporalio.service import RPCError

from arrears.intake.csv_forms import placement_row
from arrears.intake.sample import sample_rows
from arrears.settings import Settings
from arrears.stack.temporal import connect
from arrears.store.archive_sweep import SCHEDULE_ID, SweepRequest, SweepSummary
from arrears.store.events import chain_hash
from tests.integration.conftest import StackEnv, run_arrears, run_cases_for
from tests.support import wait_until

pytestmark = pytest.mark.integration


async def run_ids(client: Client, workflow_id: str) -> list[str]:
    return [e.run_id async for e in client.list_workflows(f'WorkflowId = "{workflow_id}"')]


async def start_cases(client: Client, queue: str, count: int) -> list[str]:
    """Cases run for 70 business days: two or three statement dates, after each of which
    a case continues as new."""
    origin = datetime.now(UTC)
    rows = [placement_row(r) for r in sample_rows(count, seed=12, as_of=origin.date())]
    await run_cases_for(client, queue, rows, origin, days=70)
    return [row.case_id for row in rows]


async def owner_update(conn: asyncpg.Connection, sql: str, *args: object) -> None:
    """Tampering as only the table owner can: with the append-only trigger off."""
    await conn.execute("ALTER TABLE run_archive DISABLE TRIGGER run_archive_append_only")
    await conn.execute(sql, *args)
    await conn.execute("ALTER TABLE run_archive ENABLE TRIGGER run_archive_append_only")


async def delete_from_temporal(client: Client, workflow_id: str) -> None:
    """Every run of a workflow deleted, as the retention would, and gone from Temporal."""
    doomed = await run_ids(client, workflow_id)
    for run_id in doomed:
        await client.workflow_service.delete_workflow_execution(
            DeleteWorkflowExecutionRequest(
                namespace=client.namespace,
                workflow_execution=WorkflowExecution(workflow_id=workflow_id, run_id=run_id),
            )
        )

    async def gone() -> bool:
        for run_id in doomed:
            try:
                await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
                return False
            except RPCError:
                pass
        return not await run_ids(client, workflow_id)

    await wait_until(gone, f"Temporal to delete {workflow_id}", timeout=120)


async def test_a_case_deleted_from_temporal_is_audited_from_the_archive(
    spawn, stack_env: StackEnv
) -> None:
    queue = f"archive-{uuid.uuid4().hex[:6]}"
    # A sweep every 30 days: the schedule stays out of the way of the sweeps below.
    env = stack_env.as_env() | {
        "ARREARS_TASK_QUEUE": queue,
        "ARREARS_TEMPORAL_RETENTION_DAYS": "3650",
        "ARREARS_ARCHIVE_INTERVAL_SECONDS": str(30 * 86400),
    }
    up = await spawn("up", env=env)
    pg_url = (await up.wait_for_line(r"^PostgreSQL: (\S+)")).group(1)
    await up.wait_for_line(r"^Ready\.")
    client = await connect(Settings(temporal_port=stack_env.temporal_port))

    described = await client.workflow_service.describe_namespace(
        DescribeNamespaceRequest(namespace="default")
    )
    assert described.config.workflow_execution_retention_ttl.ToTimedelta() == timedelta(days=3650)
    schedule = (await client.get_schedule_handle(SCHEDULE_ID).describe()).schedule
    assert isinstance(schedule.action, ScheduleActionStartWorkflow)
    assert (schedule.action.workflow, schedule.action.task_queue) == ("ArchiveSweep", queue)
    assert [i.every for i in schedule.spec.intervals] == [timedelta(days=30)]

    # A worker schedules the sweep too (a cluster may have no `arrears up`).
    await client.get_schedule_handle(SCHEDULE_ID).delete()
    await spawn("worker", env=env)
    deleted, kept = await start_cases(client, queue, 2)
    runs = {case_id: await run_ids(client, case_id) for case_id in (deleted, kept)}
    assert (await client.get_schedule_handle(SCHEDULE_ID).describe()).schedule == schedule
    assert all(len(r) >= 3 for r in runs.values()), runs
    total = sum(len(r) for r in runs.values())

    # A sweep limited to two runs archives the two that closed first, and moves the
    # watermark to the second one's close time, not further.
    closed = sorted(
        [(e.close_time, e.run_id) async for e in client.list_workflows('WorkflowType = "Case"')]
    )
    code, out, err = await run_arrears("archive", "--limit", "2", env=env)
    assert code == 0, err
    limited = json.loads(out.splitlines()[-1])
    assert (limited["listed"], limited["archived"]) == (total, 2)
    assert datetime.fromisoformat(limited["watermark"]) == closed[1][0]
    # The workflow the schedule starts, run now on the worker: the rest archived.
    rest = await client.execute_workflow(
        "ArchiveSweep", SweepRequest(), id=f"sweep-{queue}", task_queue=queue,
        result_type=SweepSummary,
    )  # fmt: skip
    assert (rest.archived, rest.already_archived) == (total - 2, 2)
    # Sweeping again (from the command line) stores nothing twice.
    code, out, err = await run_arrears("archive", "--full", env=env)
    assert code == 0, err
    again = json.loads(out.splitlines()[-1])
    assert (again["archived"], again["already_archived"]) == (0, total)
    conn = await asyncpg.connect(pg_url)
    try:
        archived = await conn.fetch("SELECT workflow_id, run_id FROM run_archive")
        assert sorted((r["workflow_id"], r["run_id"]) for r in archived) == sorted(
            (case_id, run_id) for case_id, ids in runs.items() for run_id in ids
        )

        await delete_from_temporal(client, deleted)
        code, out, err = await run_arrears("audit", deleted, "--format", "json", env=env)
        assert code == 0, out + err
        [report] = json.loads(out)
        assert report["verified"] and report["problems"] == []
        types = [e["type"] for e in report["timeline"]["events"]]
        assert types[0] == "case_opened" and types.count("statement_issued") >= 2

        code, out, err = await run_arrears("audit", "--all", "--format", "json", env=env)
        assert code == 0, out + err
        assert {c["case_id"]: c["verified"] for c in json.loads(out)} == {
            deleted: True,
            kept: True,
        }

        # A forged archive row, re-hashed to fit its chain, is caught while Temporal still
        # has the run it claims to copy.
        forged = await conn.fetchrow(
            "SELECT * FROM run_archive WHERE workflow_id = $1 ORDER BY position DESC LIMIT 1",
            kept,
        )
        document = json.loads(gzip.decompress(forged["history"]))
        document["events"] = document["events"][:-1]
        text = json.dumps(document).encode()
        digest = hashlib.sha256(text).hexdigest()
        record = {
            "workflow_id": kept, "run_id": forged["run_id"],
            "workflow_type": forged["workflow_type"],
            "started_at": forged["started_at"].isoformat(),
            "closed_at": forged["closed_at"].isoformat(),
            "close_status": forged["close_status"], "history_sha256": digest,
        }  # fmt: skip
        await owner_update(
            conn,
            "UPDATE run_archive SET history = $2, history_sha256 = $3, hash = $4"
            " WHERE run_id = $1",
            forged["run_id"], gzip.compress(text), digest,
            chain_hash(forged["prev_hash"], record),
        )  # fmt: skip
        code, out, err = await run_arrears("audit", kept, "--format", "json", env=env)
        assert code == 1, out + err
        [report] = json.loads(out)
        assert f"archive: run {forged['run_id']} differs from Temporal's copy" in " ".join(
            report["problems"]
        ), report["problems"]

        # A run's archived history altered (only the owner can, with the trigger off):
        # a middle run, so the history the audit can trust has a hole.
        middle_run = await conn.fetchrow(
            "SELECT run_id, history FROM run_archive WHERE workflow_id = $1"
            " ORDER BY started_at LIMIT 1 OFFSET 1",
            deleted,
        )
        document = json.loads(gzip.decompress(middle_run["history"]))
        document["events"] = document["events"][:-1]
        await owner_update(
            conn,
            "UPDATE run_archive SET history = $2 WHERE run_id = $1",
            middle_run["run_id"],
            gzip.compress(json.dumps(document).encode()),
        )
    finally:
        await conn.close()
    code, out, err = await run_arrears("audit", deleted, "--format", "json", env=env)
    assert code == 1, out + err
    assert out, err
    [report] = json.loads(out)
    named = [p for p in report["problems"] if middle_run["run_id"] in p]
    assert any("altered" in p for p in named), report["problems"]
    assert any("neither on Temporal nor in the archive" in p for p in named), named
    assert report["timeline"]["events"][0]["type"] == "case_opened"  # up to the hole
