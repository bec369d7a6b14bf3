"""Audit replay throughput: what `arrears audit --history` does per case (replay on the
current code, rebuild the timeline from the history, check the records) beside the bare
Temporal `Replayer` on the same histories, and the same audit in `--jobs` processes.

    .venv/bin/python bench/audit_replay.py [--cases 10] [--histories 100] [--jobs 2]

Records `--cases` one-year cases on the time-skipping test server (each continues as new
about monthly, so a one-year history is a dozen runs) and exports them as files, then
audits `--histories` one-year histories, cycling over the recorded ones:

- bare: the `Replayer` alone, every run of every history;
- audit: `arrears audit --history`'s per-case work in this process (each case's timeline
  rebuilt and serialised, as `--timeline` prints it);
- audit --jobs N: the same through the CLI's process-pool driver, the processes started
  and warmed (imports, one audit each) before the clock starts, as the one-process path
  is warmed by one audit before it.

Targets: the audit reaches 80 % of the bare replayer's histories/s; `--jobs 2` is at
least 1.8x the one-process audit on two cores.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import multiprocessing
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer, Worker

from activities.contact import SimulatedProvider
from arrears.audit.histories import fetch_runs, write_runs
from arrears.audit.jobs import audit_files, audit_files_chunk, reports_in_processes, start_process
from arrears.audit.runner import AuditOptions
from arrears.intake.csv_forms import placement_row
from arrears.intake.sample import sample_rows
from arrears.simulate.on_temporal import start_test_server
from arrears.spawned import cores, process_pool
from arrears.stack.temporal import install_runtime
from arrears.store.events import InMemoryEventStore
from arrears.workers import case_activities
from domain.intake import open_case
from domain.localtime import start_of_day
from domain.policy import Policy
from workflows.case import CaseWorkflow
from workflows.case_io import BusinessClock, CaseInput


async def record(cases: int) -> list[list[WorkflowHistory]]:
    policy = Policy()
    start = date(2026, 3, 2)
    origin = start_of_day(start, policy.cycle.bank_timezone)
    rows = [placement_row(r) for r in sample_rows(cases, seed=9, as_of=start)]
    recorded = []
    env = await start_test_server()
    async with env:
        queue = f"bench-audit-{uuid.uuid4().hex[:6]}"
        activities = case_activities(InMemoryEventStore(), SimulatedProvider(seed=9))
        async with Worker(
            env.client, task_queue=queue, workflows=[CaseWorkflow], activities=activities
        ):
            for row in rows:
                case_input = CaseInput(
                    case_id=row.case_id,
                    policy=policy,
                    clock=BusinessClock(origin=origin),
                    open=open_case(row),
                    until=origin + timedelta(days=365),
                    search_attributes=False,
                )
                handle = await env.client.start_workflow(
                    CaseWorkflow.run, case_input, id=row.case_id, task_queue=queue
                )
                await handle.result()
                recorded.append(
                    await fetch_runs(env.client, row.case_id, handle.first_execution_run_id or "")
                )
    return recorded


def workload(folder: Path, recorded: list[list[WorkflowHistory]], count: int) -> list[list[Path]]:
    """`count` cases as run files, cycling over the recorded ones."""
    cases = [write_runs(runs, folder, f"case-{n}") for n, runs in enumerate(recorded)]
    return list(itertools.islice(itertools.cycle(cases), count))


def _warm(barrier: Any, paths: list[Path]) -> None:
    """Initializer of a bench process: as the CLI's, plus one audit, then wait until
    every process has done the same (so each one is warm when the clock starts)."""
    start_process()
    audit_files_chunk([paths], OPTIONS, False)
    barrier.wait()


def _ready() -> None:
    return None


OPTIONS = AuditOptions(timelines=True)


async def audit_in_one_process(cases: list[list[Path]]) -> float:
    await audit_files(cases[0], OPTIONS, None)  # warm
    began = time.perf_counter()
    for paths in cases:
        report = await audit_files(paths, OPTIONS, None)
        assert report.verdict == "verified" and report.timeline, report.findings
    return len(cases) / (time.perf_counter() - began)


async def audit_in_processes(cases: list[list[Path]], processes: int) -> float:
    spawn = multiprocessing.get_context("spawn")
    barrier = spawn.Barrier(processes)
    with process_pool(processes, _warm, (barrier, cases[0])) as pool:
        for started in [pool.submit(_ready) for _ in range(processes)]:
            started.result()  # every process started and warmed
        began = time.perf_counter()
        done = 0
        async for report in reports_in_processes(pool, processes, audit_files_chunk, cases,
                                                 OPTIONS, False):  # fmt: skip
            assert report.verdict == "verified" and report.timeline, report.findings
            done += 1
        assert done == len(cases)
        return done / (time.perf_counter() - began)


async def bare_replay(cases: list[list[WorkflowHistory]]) -> float:
    replayer = Replayer(workflows=[CaseWorkflow], data_converter=pydantic_data_converter)
    began = time.perf_counter()
    for case_runs in cases:
        for history in case_runs:
            result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
            assert result.replay_failure is None
    return len(cases) / (time.perf_counter() - began)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=10)
    parser.add_argument("--histories", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    install_runtime()
    began = time.perf_counter()
    recorded = await record(args.cases)
    runs = sum(len(r) for r in recorded)
    events = sum(len(run.events) for r in recorded for run in r)
    print(f"recorded {args.cases} one-year cases: {runs} runs, {events} history events "
          f"({time.perf_counter() - began:.0f} s)")  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:
        cases = workload(Path(folder), recorded, args.histories)
        histories = list(itertools.islice(itertools.cycle(recorded), args.histories))
        bare = await bare_replay(histories)
        audited = await audit_in_one_process(cases)
        spread = await audit_in_processes(cases, args.jobs)
    ratio, speedup = audited / bare, spread / audited
    print(f"bare Replayer:     {bare:.2f} one-year histories/s")
    print(f"arrears audit:     {audited:.2f} one-year histories/s "
          "(replay + timeline rebuilt + records checked)")  # fmt: skip
    print(f"audit --jobs {args.jobs}:    {spread:.2f} one-year histories/s")
    print(f"ratio audit/bare: {ratio:.2f} (target >= 0.80): {'PASS' if ratio >= 0.8 else 'FAIL'}")
    print(f"speed-up --jobs {args.jobs}: {speedup:.2f}x on {cores()} cores "
          f"(target >= 1.8x): {'PASS' if speedup >= 1.8 else 'FAIL'}")  # fmt: skip


if __name__ == "__main__":
    asyncio.run(main())
