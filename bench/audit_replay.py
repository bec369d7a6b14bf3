"""Audit replay throughput: `arrears audit --history` work (replay on the current code
plus rebuilding the timeline from the history) beside the bare Temporal `Replayer` on the
same histories.

    .venv/bin/python bench/audit_replay.py [--cases 10] [--histories 200]

Records `--cases` one-year cases on the time-skipping test server (each continues as new
about monthly, so a one-year history is a dozen runs), then audits `--histories`
one-year histories, cycling over the recorded ones, with both paths. Target: the audit
reaches 80 % of the bare replayer's histories/s.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import time
import uuid
from datetime import date, timedelta

from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer, Worker

from activities.contact import SimulatedProvider
from activities.event_store import InMemoryEventStore
from arrears.audit import audit_case
from arrears.histories import fetch_runs
from arrears.sample import sample_rows
from arrears.stack.temporal import install_runtime
from arrears.temporal_sim import start_test_server
from domain.intake import open_case
from domain.localtime import start_of_day
from domain.placement import PlacementRow
from domain.policy import Policy
from worker import case_activities
from workflows.case import CaseWorkflow
from workflows.case_io import BusinessClock, CaseInput


async def record(cases: int) -> list[list[WorkflowHistory]]:
    policy = Policy()
    start = date(2026, 3, 2)
    origin = start_of_day(start, policy.cycle.bank_timezone)
    rows = [PlacementRow.model_validate(r) for r in sample_rows(cases, seed=9, as_of=start)]
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


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=10)
    parser.add_argument("--histories", type=int, default=200)
    args = parser.parse_args()
    install_runtime()
    began = time.perf_counter()
    recorded = await record(args.cases)
    runs = sum(len(r) for r in recorded)
    events = sum(len(run.events) for r in recorded for run in r)
    print(f"recorded {args.cases} one-year cases: {runs} runs, {events} history events "
          f"({time.perf_counter() - began:.0f} s)")  # fmt: skip
    workload = list(itertools.islice(itertools.cycle(recorded), args.histories))

    replayer = Replayer(workflows=[CaseWorkflow], data_converter=pydantic_data_converter)
    began = time.perf_counter()
    for case_runs in workload:
        for run in case_runs:
            result = await replayer.replay_workflow(run, raise_on_replay_failure=False)
            assert result.replay_failure is None
    bare = args.histories / (time.perf_counter() - began)

    began = time.perf_counter()
    for case_runs in workload:
        audit = await audit_case("bench", case_runs, None)
        assert not audit.problems, audit.problems
    audited = args.histories / (time.perf_counter() - began)

    ratio = audited / bare
    print(f"bare Replayer:  {bare:.1f} one-year histories/s")
    print(f"arrears audit:  {audited:.1f} one-year histories/s (replay + timeline rebuild)")
    print(f"ratio audit/bare: {ratio:.2f} (target >= 0.80): {'PASS' if ratio >= 0.8 else 'FAIL'}")


if __name__ == "__main__":
    asyncio.run(main())
