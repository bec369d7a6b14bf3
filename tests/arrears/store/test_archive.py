"""The run archive (issue 12) on a real PostgreSQL, filled with real recorded histories
(the golden ones): stored once, read back verified and in order, and every way a row can
be altered or removed is named. Plus the settings that keep sweeps inside the retention."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from pydantic import ValidationError
from temporalio.client import WorkflowHistory
from temporalio.service import RPCError, RPCStatusCode

from arrears.audit.histories import read_history
from arrears.settings import Settings
from arrears.stack.up import Stack
from arrears.store.archive import RunArchive, RunStillOpen

HISTORIES = Path(__file__).parents[2] / "histories"
ARREARS = str(Path(sys.executable).parent / "arrears")


def golden(name: str) -> list[tuple[WorkflowHistory, str]]:
    """A golden case's runs in run order, each with its run id (from its started event)."""
    runs = []
    for path in sorted(HISTORIES.glob(f"golden-{name}.run-*.json")):
        history = read_history(path, workflow_id=f"case-{name}")
        started = history.events[0].workflow_execution_started_event_attributes
        runs.append((history, started.original_execution_run_id))
    return runs


async def as_owner_without_triggers(pool: asyncpg.Pool, sql: str, *args: Any) -> None:
    """Tampering as only the table owner can: switch the append-only trigger off first."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("ALTER TABLE run_archive DISABLE TRIGGER run_archive_append_only")
        await conn.execute(sql, *args)
        await conn.execute("ALTER TABLE run_archive ENABLE TRIGGER run_archive_append_only")


async def test_each_run_is_archived_once_however_often_it_is_stored(pool: asyncpg.Pool) -> None:
    archive = RunArchive(pool)
    runs = golden("live")
    assert len(runs) == 3
    assert [await archive.store(h, run_id) for h, run_id in runs] == [True] * 3
    assert [await archive.store(h, run_id) for h, run_id in runs] == [False] * 3
    rows = await pool.fetch("SELECT run_id, position, close_status FROM run_archive")
    assert sorted((r["position"], r["run_id"]) for r in rows) == [
        (n, run_id) for n, (_, run_id) in enumerate(runs, start=1)
    ]
    assert sorted(r["close_status"] for r in rows) == [
        "completed",
        "continued_as_new",
        "continued_as_new",
    ]
    assert await archive.archived_among([runs[0][1], "not-a-run"]) == {runs[0][1]}
    assert await archive.workflow_ids() == ["case-live"]


async def test_archived_runs_read_back_as_the_histories_that_were_stored(
    pool: asyncpg.Pool,
) -> None:
    archive = RunArchive(pool)
    runs = golden("promise_broken")
    for history, run_id in reversed(runs):  # archived in any order
        await archive.store(history, run_id)
    found, problems = await archive.runs("case-promise_broken")
    assert problems == []
    assert {run_id: h.to_json() for run_id, h in found.items()} == {
        run_id: h.to_json() for h, run_id in runs
    }
    stored = await pool.fetchval("SELECT sum(length(history)) FROM run_archive")
    assert stored < sum(len(h.to_json()) for h, _ in runs) / 4  # compressed


async def test_an_altered_history_is_named_and_never_returned(pool: asyncpg.Pool) -> None:
    archive = RunArchive(pool)
    runs = golden("live")
    for history, run_id in runs:
        await archive.store(history, run_id)
    altered_run = runs[1][1]
    document = json.loads(runs[1][0].to_json())
    document["events"][-1]["eventTime"] = "2047-03-01T00:00:00Z"
    await as_owner_without_triggers(
        pool,
        "UPDATE run_archive SET history = $2 WHERE run_id = $1",
        altered_run,
        gzip.compress(json.dumps(document).encode()),
    )
    found, problems = await archive.runs("case-live")
    assert problems == [
        f"archive: run {altered_run} is altered: its history does not match its hash"
    ]
    assert altered_run not in found and len(found) == 2


async def test_an_altered_record_or_a_removed_run_breaks_the_chain(pool: asyncpg.Pool) -> None:
    archive = RunArchive(pool)
    runs = golden("live")
    for history, run_id in runs:
        await archive.store(history, run_id)
    first, second, third = (run_id for _, run_id in runs)
    await as_owner_without_triggers(
        pool, "UPDATE run_archive SET close_status = 'completed' WHERE run_id = $1", first
    )
    await as_owner_without_triggers(pool, "DELETE FROM run_archive WHERE run_id = $1", second)
    found, problems = await archive.runs("case-live")
    assert problems == [
        f"archive: run {first} is altered: its record does not match its hash",
        "archive: run at position 2 is missing",
        f"archive: run {third} does not link to the run archived before it",
    ]
    assert list(found) == [third]


async def test_a_run_still_open_is_not_archived(pool: asyncpg.Pool) -> None:
    history, run_id = golden("live")[2]
    still_running = WorkflowHistory(history.workflow_id, history.events[:-1])
    with pytest.raises(RunStillOpen):
        await RunArchive(pool).store(still_running, run_id)
    assert await pool.fetchval("SELECT count(*) FROM run_archive") == 0


async def test_no_one_changes_the_archive_and_each_role_has_only_what_it_needs(
    pool: asyncpg.Pool,
) -> None:
    history, run_id = golden("live")[0]
    await RunArchive(pool).store(history, run_id)
    for sql in ("UPDATE run_archive SET close_status = 'x'", "DELETE FROM run_archive"):
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="run_archive is append-only"):
            await pool.execute(sql)
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
        await pool.execute("TRUNCATE run_archive")

    async def as_role(role: str, sql: str) -> None:
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute(f"SET LOCAL ROLE {role}")
            await conn.execute(sql)

    copy = (
        "INSERT INTO run_archive SELECT workflow_id, position + 1, run_id || '-copy',"
        " workflow_type, started_at, closed_at, close_status, history, history_sha256,"
        " prev_hash, hash, archived_at FROM run_archive"
    )
    mark = "INSERT INTO archive_watermark (name, closed_at) VALUES ('ns', now())"
    await as_role("arrears_app", copy)
    await as_role("arrears_app", mark)
    await as_role("arrears_app", "UPDATE archive_watermark SET closed_at = now()")
    await as_role("arrears_auditor", "SELECT history FROM run_archive")
    await as_role("arrears_auditor", "SELECT closed_at FROM archive_watermark")
    refused = [
        ("arrears_app", "DELETE FROM run_archive"),
        ("arrears_auditor", copy),
        ("arrears_auditor", "UPDATE archive_watermark SET closed_at = now()"),
        ("arrears_purger", "SELECT run_id FROM run_archive"),
        ("arrears_purger", "SELECT name FROM archive_watermark"),
    ]
    for role, sql in refused:
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
            await as_role(role, sql)


def test_the_retention_defaults_to_thirty_days_and_a_sweep_every_minute(clean_env: None) -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert (settings.temporal_retention_days, settings.archive_interval_seconds) == (30, 60)


def test_a_sweep_interval_that_leaves_too_few_sweeps_within_the_retention_is_refused(
    clean_env: None,
) -> None:
    Settings(temporal_retention_days=1, archive_interval_seconds=864)
    with pytest.raises(ValidationError, match="at most a hundredth"):
        Settings(temporal_retention_days=1, archive_interval_seconds=865)


def test_a_bad_setting_is_one_line_naming_the_variable_and_exit_code_2(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARREARS_")}
    env |= {"ARREARS_TEMPORAL_RETENTION_DAYS": "1", "ARREARS_ARCHIVE_INTERVAL_SECONDS": "3600"}
    done = subprocess.run(
        [ARREARS, "archive"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert line.startswith("arrears: ")
    assert "ARREARS_ARCHIVE_INTERVAL_SECONDS" in line and "ARREARS_TEMPORAL_RETENTION_DAYS" in line
    env |= {"ARREARS_TEMPORAL_RETENTION_DAYS": "0"}
    done = subprocess.run(
        [ARREARS, "archive"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert done.stderr.startswith("arrears: bad configuration: ARREARS_TEMPORAL_RETENTION_DAYS:")
    assert len(done.stderr.splitlines()) == 1


async def _refused() -> None:
    raise RPCError("namespace is managed", RPCStatusCode.PERMISSION_DENIED, b"")


async def test_a_cluster_that_refuses_the_retention_gets_one_warning_line(
    clean_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    cluster = Stack(Settings(temporal_address="temporal.bank.internal:7233"))
    await cluster._cluster_may_refuse("setting the retention", _refused())
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("arrears: warning: setting the retention was refused")
    assert "PERMISSION_DENIED" in line


async def test_our_own_dev_server_refusing_the_retention_is_a_failure(clean_env: None) -> None:
    embedded = Stack(Settings())
    with pytest.raises(RPCError):
        await embedded._cluster_may_refuse("setting the retention", _refused())
