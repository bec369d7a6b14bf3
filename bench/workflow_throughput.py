"""Workflow throughput: N sample cases through a business year, beside a bare workflow.

    .venv/bin/python bench/workflow_throughput.py [--cases N] [--days D] [--day-seconds S]

Starts its own Temporal dev server (in memory, 127.0.0.1, free port) and an embedded
PostgreSQL in a temporary directory (or uses DATABASE_URL), and one in-process worker with
the production wiring: CaseWorkflow, the PostgreSQL EventStore, the SimulatedProvider.

1. case run: N sample cases (`arrears.intake.sample`) on a short `day_seconds`, each until D
   business days after its start. Workflow tasks, activities and timers are counted from
   the histories of every run of every case (following continue-as-new).
2. bare run, same server, same worker: per case, a trivial workflow (defined here) that
   does that case's number of timers (1 ms each), no-op activities and continue-as-new
   runs. It measures what the server and the SDK do per task with no application work.

Prints both rows with the ratios case/bare (the ratio is what matters: absolute figures
move with the machine and whatever else it runs), the worker's peak memory (RSS and
tracemalloc) and the CPU seconds of the worker, the dev server and PostgreSQL per phase.

Note on the clock: business time = real time x 86400 / day_seconds, so the case run cannot
end before D x day_seconds ("clock floor"). When the wall time is well above the floor the
case run was bound by the work, not the clock, and its rates are a throughput; when it is
close, lower --day-seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import resource
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
import tracemalloc
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from temporalio import activity, workflow

with workflow.unsafe.imports_passed_through():
    import psutil
    from temporalio.api.enums.v1 import EventType
    from temporalio.client import Client, WorkflowHandle
    from temporalio.contrib.pydantic import pydantic_data_converter
    from temporalio.testing import WorkflowEnvironment
    from temporalio.worker import Worker

    from activities.contact import SimulatedProvider
    from arrears.audit.histories import fetch_runs
    from arrears.intake.csv_forms import placement_row
    from arrears.intake.sample import sample_rows
    from arrears.logs import configure_logging
    from arrears.policies import load_policy
    from arrears.settings import SEARCH_ATTRIBUTES, Settings
    from arrears.stack.postgres import EmbeddedPostgres
    from arrears.stack.temporal import binary, install_runtime
    from arrears.store.db import create_pool, migrate
    from arrears.store.events import EventStore
    from arrears.workers import case_activities
    from domain.intake import open_case
    from workflows.case import CaseWorkflow
    from workflows.case_io import BusinessClock, CaseInput

MIB = 1024 * 1024
BARE_TIMER = timedelta(milliseconds=1)  # the case workflow's shortest wait, too
NOOP_TIMEOUT = timedelta(seconds=10)


# --- the bare baseline ------------------------------------------------------------------


@activity.defn(name="bench_noop")
async def bench_noop() -> None:
    return None


@dataclass
class BareInput:
    timers: int
    activities: int
    runs: int = 1


@workflow.defn(name="BenchBare")
class BareWorkflow:
    """`timers` 1 ms sleeps with `activities` no-op activities spread evenly between them,
    over `runs` runs chained by continue-as-new: a case's shape with no application work."""

    @workflow.run
    async def run(self, plan: BareInput) -> None:
        timers = plan.timers // plan.runs
        activities = plan.activities // plan.runs
        if plan.runs == 1:
            timers, activities = plan.timers, plan.activities
        done = 0
        for tick in range(timers):
            await workflow.sleep(BARE_TIMER)
            while done < (tick + 1) * activities // timers:
                await workflow.execute_activity(bench_noop, start_to_close_timeout=NOOP_TIMEOUT)
                done += 1
        while done < activities:
            await workflow.execute_activity(bench_noop, start_to_close_timeout=NOOP_TIMEOUT)
            done += 1
        if plan.runs > 1:
            workflow.continue_as_new(
                BareInput(plan.timers - timers, plan.activities - activities, plan.runs - 1)
            )


# --- measuring --------------------------------------------------------------------------


@dataclass
class WorkflowCount:
    """What the histories of every run of one workflow say it did."""

    runs: int = 0
    workflow_tasks: int = 0
    activities: int = 0
    timers: int = 0
    timers_fired: int = 0
    failures: int = 0  # failed or timed-out workflow tasks and activity attempts in history
    events: list[int] = field(default_factory=list)  # per run
    sizes: list[int] = field(default_factory=list)  # bytes per run
    inputs: list[int] = field(default_factory=list)  # bytes of each run's start input
    by_activity: Counter[str] = field(default_factory=Counter)
    bytes_in: Counter[str] = field(default_factory=Counter)  # activity inputs, by type
    bytes_out: Counter[str] = field(default_factory=Counter)  # activity results, by type


_FAILED = {
    EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED,
    EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT,
    EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED,
    EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT,
}


async def count_workflow(client: Client, workflow_id: str, first_run_id: str) -> WorkflowCount:
    count = WorkflowCount()
    for history in await fetch_runs(client, workflow_id, first_run_id):
        count.runs += 1
        count.events.append(len(history.events))
        count.sizes.append(sum(e.ByteSize() for e in history.events))
        started = history.events[0].workflow_execution_started_event_attributes
        count.inputs.append(started.input.ByteSize())
        scheduled: dict[int, str] = {}
        for e in history.events:
            kind = e.event_type
            if kind == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
                count.workflow_tasks += 1
            elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
                attrs = e.activity_task_scheduled_event_attributes
                scheduled[e.event_id] = attrs.activity_type.name
                count.bytes_in[attrs.activity_type.name] += attrs.input.ByteSize()
            elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
                count.activities += 1
                done = e.activity_task_completed_event_attributes
                name = scheduled.get(done.scheduled_event_id, "?")
                count.by_activity[name] += 1
                count.bytes_out[name] += done.result.ByteSize()
            elif kind == EventType.EVENT_TYPE_TIMER_STARTED:
                count.timers += 1
            elif kind == EventType.EVENT_TYPE_TIMER_FIRED:
                count.timers_fired += 1
            elif kind in _FAILED:
                count.failures += 1
    return count


class ProcessMeter:
    """CPU seconds of this process, the dev server and PostgreSQL; sampled peak RSS of this
    process (a thread, so a busy event loop does not hide a peak)."""

    def __init__(self, pg_pids: Callable[[], set[int]]) -> None:
        self._me = psutil.Process()
        self._pg_pids = pg_pids
        self._peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(0.05):
            self._peak = max(self._peak, self._me.memory_info().rss)

    def reset_peak(self) -> None:
        self._peak = self._me.memory_info().rss

    @property
    def peak_rss(self) -> int:
        return self._peak

    def cpu(self) -> dict[str, float]:
        """Cumulative CPU seconds by role (children that exited meanwhile are not counted)."""
        totals = {"worker": 0.0, "temporal": 0.0, "postgres": 0.0}
        pg = self._pg_pids()
        for proc in [self._me, *self._me.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                times = proc.cpu_times()
                seconds = times.user + times.system
                if proc.pid == self._me.pid:
                    totals["worker"] += seconds
                elif proc.pid in pg or proc.name().startswith("postgres"):
                    totals["postgres"] += seconds
                elif proc.name().startswith("temporal"):
                    totals["temporal"] += seconds
        return totals

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


@dataclass
class Phase:
    name: str
    seconds: float
    counts: list[WorkflowCount]
    cpu: dict[str, float]
    peak_rss: int
    traced: tuple[int, int] | None  # tracemalloc: current at the start, peak during the run
    load: tuple[float, float]  # 1-minute load average at start and end

    def total(self, attr: str) -> int:
        return sum(getattr(c, attr) for c in self.counts)

    @property
    def workflow_tasks(self) -> int:
        return self.total("workflow_tasks")

    @property
    def activities(self) -> int:
        return self.total("activities")


async def run_phase(
    name: str,
    client: Client,
    meter: ProcessMeter,
    start_all: Callable[[], Awaitable[Sequence[WorkflowHandle[Any, Any]]]],
    timeout: float,
    trace: bool,
) -> tuple[Phase, list[Any]]:
    meter.reset_peak()
    traced_start = 0
    if trace:
        tracemalloc.reset_peak()
        traced_start = tracemalloc.get_traced_memory()[0]
    cpu_before = meter.cpu()
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    handles = await start_all()
    gathered = asyncio.gather(*(h.result() for h in handles))
    # Interrupted or timed out, its outcome is of no interest: retrieve it to say so.
    gathered.add_done_callback(lambda f: f.cancelled() or f.exception())
    try:
        results = await asyncio.wait_for(gathered, timeout=timeout)
    except TimeoutError:
        for handle in handles:
            with contextlib.suppress(Exception):
                await handle.terminate("benchmark timed out")
        raise SystemExit(f"bench: the {name} run did not finish in {timeout:.0f} s") from None
    seconds = time.perf_counter() - started
    traced = None
    if trace:
        traced = (traced_start, tracemalloc.get_traced_memory()[1])
    cpu_after = meter.cpu()
    phase = Phase(
        name=name,
        seconds=seconds,
        counts=[],
        cpu={k: cpu_after[k] - cpu_before[k] for k in cpu_after},
        peak_rss=meter.peak_rss,
        traced=traced,
        load=(load_before, os.getloadavg()[0]),
    )
    phase.counts = list(
        await asyncio.gather(
            *(count_workflow(client, h.id, h.first_execution_run_id or "") for h in handles)
        )
    )
    return phase, results


# --- the stack ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.asynccontextmanager
async def database(settings: Settings) -> Any:
    """DATABASE_URL if set, else an embedded PostgreSQL in a temporary directory; migrated.
    Yields (url, function returning the server's process ids)."""
    if settings.database_url:
        yield settings.database_url, set
        return
    data_dir = Path(tempfile.mkdtemp(prefix="arrears-bench-pg-"))
    server = EmbeddedPostgres(data_dir, free_port())
    try:
        await server.start()

        def pids() -> set[int]:
            if server.child is None:
                return set()
            with contextlib.suppress(psutil.Error):
                root = psutil.Process(server.child.process.pid)
                return {root.pid, *(p.pid for p in root.children(recursive=True))}
            return set()

        yield server.url, pids
    finally:
        await server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


# --- the benchmark -----------------------------------------------------------------------


async def bench(args: argparse.Namespace) -> None:
    if not args.no_tracemalloc:
        # Started once and stopped only after the worker is gone: tracemalloc.stop() while
        # the SDK's threads allocate crashes CPython 3.11 (gh-128679, fixed in 3.12 and 3.13 only).
        tracemalloc.start()
    settings = Settings(log_level="WARNING")
    configure_logging(settings)
    install_runtime()
    policy = load_policy(args.policy)
    tag = uuid.uuid4().hex[:8]
    queue = f"bench-{tag}"
    sa_args = []
    for name, kind in SEARCH_ATTRIBUTES.items():
        sa_args += ["--search-attribute", f"{name}={kind}"]
    # The dev server prints a banner on the stdout it inherits: send it to stderr, so
    # stdout carries the figures only.
    sys.stdout.flush()
    saved_stdout = os.dup(1)
    os.dup2(2, 1)
    try:
        env = await WorkflowEnvironment.start_local(
            ip="127.0.0.1",
            data_converter=pydantic_data_converter,
            dev_server_existing_path=str(binary("temporal")),
            dev_server_extra_args=sa_args,
        )
    finally:
        os.dup2(saved_stdout, 1)
        os.close(saved_stdout)
    async with env, database(settings) as (db_url, pg_pids):
        pool = await create_pool(db_url, max_size=min(settings.worker_concurrency, 20))
        meter = ProcessMeter(pg_pids)
        try:
            await migrate(pool)
            client = env.client
            worker = Worker(
                client,
                task_queue=queue,
                workflows=[CaseWorkflow, BareWorkflow],
                activities=[*case_activities(EventStore(pool), SimulatedProvider()), bench_noop],
                max_concurrent_activities=settings.worker_concurrency,
                max_concurrent_workflow_tasks=settings.worker_concurrency,
            )
            async with worker:
                origin = datetime.now(UTC)
                rows = []
                for cells in sample_rows(args.cases, seed=args.seed, as_of=origin.date()):
                    # Unique per run, so a shared DATABASE_URL never sees a case twice.
                    cells["account_id"] = f"bench-{tag}-{cells['account_id']}"
                    rows.append(placement_row(cells))

                async def start_cases() -> list[WorkflowHandle[Any, Any]]:
                    # Every case's clock starts now: business day d is d x day_seconds away.
                    start = datetime.now(UTC)
                    return [
                        await client.start_workflow(
                            CaseWorkflow.run,
                            CaseInput(
                                case_id=row.case_id,
                                policy=policy,
                                clock=BusinessClock(origin=start, day_seconds=args.day_seconds),
                                open=open_case(row),
                                until=start + timedelta(days=args.days),
                            ),
                            id=row.case_id,
                            task_queue=queue,
                        )
                        for row in rows
                    ]

                case, results = await run_phase(
                    "case", client, meter, start_cases, args.timeout, not args.no_tracemalloc
                )
                rss_after_case = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

                async def start_bare() -> list[WorkflowHandle[Any, Any]]:
                    return [
                        await client.start_workflow(
                            BareWorkflow.run,
                            BareInput(c.timers, c.activities, c.runs),
                            id=f"bare-{tag}-{n}",
                            task_queue=queue,
                        )
                        for n, c in enumerate(case.counts)
                    ]

                bare, _ = await run_phase(
                    "bare", client, meter, start_bare, args.timeout, not args.no_tracemalloc
                )
        finally:
            meter.stop()
            await pool.close()
    tracemalloc.stop()
    report(args, case, bare, results, rss_after_case)


def report(
    args: argparse.Namespace, case: Phase, bare: Phase, results: list[Any], rss_after_case: int
) -> None:
    def rate(p: Phase, n: int) -> float:
        return n / p.seconds

    floor = args.days * args.day_seconds
    print(
        f"workflow throughput: {args.cases} cases x {args.days} business days, day_seconds "
        f"{args.day_seconds} (clock floor {floor:.1f} s), {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}"
        + ("" if args.no_tracemalloc else ", tracemalloc on in both runs")
    )
    head = (
        f"{'':10}{'seconds':>9}{'wf tasks':>10}{'wf tasks/s':>12}{'activities':>12}"
        f"{'activities/s':>14}{'timers':>8}{'runs':>6}"
        f"{'CPU s worker/temporal/pg':>27}{'load':>11}"
    )
    print(head)
    for p in (case, bare):
        cpu = f"{p.cpu['worker']:.1f}/{p.cpu['temporal']:.1f}/{p.cpu['postgres']:.1f}"
        print(
            f"{p.name:10}{p.seconds:9.1f}{p.workflow_tasks:10d}"
            f"{rate(p, p.workflow_tasks):12.1f}{p.activities:12d}{rate(p, p.activities):14.1f}"
            f"{p.total('timers'):8d}{p.total('runs'):6d}{cpu:>27}"
            f"{p.load[0]:>6.2f}-{p.load[1]:.2f}"
        )

    def ratio(a: float, b: float) -> str:
        return f"{a / b:.2f}" if b else "n/a"

    cpu_ratio = "/".join(
        [
            ratio(case.cpu["worker"], bare.cpu["worker"]),
            ratio(case.cpu["temporal"], bare.cpu["temporal"]),
            "-",
        ]
    )
    print(
        f"{'case/bare':10}{ratio(case.seconds, bare.seconds):>9}"
        f"{ratio(case.workflow_tasks, bare.workflow_tasks):>10}"
        f"{ratio(rate(case, case.workflow_tasks), rate(bare, bare.workflow_tasks)):>12}"
        f"{ratio(case.activities, bare.activities):>12}"
        f"{ratio(rate(case, case.activities), rate(bare, bare.activities)):>14}"
        f"{'':14}{cpu_ratio:>27}"
    )
    if case.seconds < 1.5 * floor:
        print(
            "note: the case run took less than 1.5 x the clock floor: its rates are bound by "
            "the business clock, not the work; lower --day-seconds for a throughput figure"
        )
    for p in (case, bare):
        per_task = p.cpu["worker"] / max(p.workflow_tasks + p.activities, 1) * 1000
        print(f"worker CPU per task ({p.name}): {per_task:.2f} ms (workflow tasks + activities)")

    traced = ""
    if case.traced is not None and bare.traced is not None:
        traced = "; tracemalloc peak " + ", ".join(
            f"{p.name} {p.traced[1] / MIB:.1f} MiB ({p.traced[0] / MIB:.1f} at its start)"
            for p in (case, bare)
            if p.traced is not None
        )
    print(
        f"worker memory: peak RSS {rss_after_case / MIB:.0f} MiB (ru_maxrss at the end of the "
        f"case run); sampled peak RSS case {case.peak_rss / MIB:.0f} MiB, "
        f"bare {bare.peak_rss / MIB:.0f} MiB{traced}"
    )

    days = args.cases * args.days
    by_activity = sum((c.by_activity for c in case.counts), Counter())
    mix = ", ".join(f"{name} {n / days:.2f}" for name, n in by_activity.most_common())
    print(
        f"case per business day: {case.activities / days:.2f} activities ({mix}), "
        f"{case.workflow_tasks / days:.2f} workflow tasks, {case.total('timers') / days:.2f} "
        f"timers ({case.total('timers_fired') / days:.2f} fired)"
    )
    bytes_in = sum((c.bytes_in for c in case.counts), Counter())
    bytes_out = sum((c.bytes_out for c in case.counts), Counter())
    print(
        "case payload per activity (bytes in/out): "
        + ", ".join(
            f"{name} {bytes_in[name] // n}/{bytes_out[name] // n}"
            for name, n in by_activity.most_common()
        )
    )
    for p in (case, bare):
        events = [e for c in p.counts for e in c.events]
        sizes = [s for c in p.counts for s in c.sizes]
        inputs = [s for c in p.counts for s in c.inputs]
        print(
            f"history per run ({p.name}): {len(events)} runs, events mean "
            f"{sum(events) / len(events):.0f} max {max(events)}, size mean "
            f"{sum(sizes) / len(sizes) / 1024:.0f} KiB max {max(sizes) / 1024:.0f} KiB "
            f"(start input mean {sum(inputs) / len(inputs) / 1024:.1f} KiB), "
            f"total {sum(sizes) / MIB:.1f} MiB"
        )
    outcomes = Counter(r.outcome for r in results)
    failures = case.total("failures") + bare.total("failures")
    print(
        "case outcomes: "
        + ", ".join(f"{k} {v}" for k, v in outcomes.most_common())
        + f"; failed or timed-out tasks in histories: {failures}"
    )


def parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=20, help="sample cases (default 20)")
    parser.add_argument("--days", type=int, default=365, help="business days (default 365)")
    parser.add_argument(
        "--day-seconds", type=float, default=0.02, help="real seconds per business day"
    )
    parser.add_argument("--seed", type=int, default=7, help="sample portfolio seed")
    parser.add_argument("--policy", default="cn-card", help="policy profile (default cn-card)")
    parser.add_argument(
        "--timeout", type=float, default=600, help="give up on a run after this many seconds"
    )
    parser.add_argument(
        "--no-tracemalloc", action="store_true", help="measure without tracemalloc's overhead"
    )
    args = parser.parse_args(argv)
    if not (1 <= args.cases <= 1000 and 1 <= args.days <= 3650 and args.day_seconds > 0):
        parser.error("need 1 <= --cases <= 1000, 1 <= --days <= 3650, --day-seconds > 0")
    return args


async def until_terminated(args: argparse.Namespace) -> None:
    # SIGTERM stops the run like Ctrl-C: the worker, the dev server and PostgreSQL are shut
    # down on the way out, and nothing is left behind.
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    await bench(args)


def main() -> None:
    try:
        asyncio.run(until_terminated(parse(sys.argv[1:])))
    except (KeyboardInterrupt, asyncio.CancelledError):
        sys.exit("bench: interrupted; everything it started was stopped")


if __name__ == "__main__":
    main()
