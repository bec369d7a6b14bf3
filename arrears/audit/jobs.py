"""`arrears audit --jobs N`: the per-case audit in N spawned processes.

Replaying histories is CPU work in Python, so one process uses one core. Each process
keeps one event loop (and, when it needs them, one client and one pool) for all its
tasks; a task is a few cases; at most two tasks per process are in flight, and reports
come back in the order of the cases, so any N gives the same output.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import sys
from collections import deque
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import asyncpg

from arrears.audit.case import CaseReport, audit_case, case_input_of
from arrears.audit.findings import Limits
from arrears.audit.histories import read_history
from arrears.audit.runner import AuditOptions, Auditor
from arrears.logs import configure_logging
from arrears.settings import Settings
from arrears.spawned import leave_interrupts_to_the_parent
from arrears.stack.temporal import connect, install_runtime
from arrears.store.db import create_pool

#: Cases per task: a one-year case replays in about half a second, so a task is a
#: couple of seconds, and the last one leaves a process idle only briefly.
CHUNK = 4

T = TypeVar("T")
_process: dict[str, Any] = {}  # this process's loop, auditor and pool, made once


def start_process() -> None:
    """Initializer of an audit process: Ctrl-C left to the parent, logs as the CLI's."""
    leave_interrupts_to_the_parent()
    configure_logging(Settings())
    install_runtime()


def _run(work: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """`work()` on this process's loop, made on the first task and kept."""
    if "loop" not in _process:
        _process["loop"] = asyncio.new_event_loop()
        atexit.register(_close)
    loop: asyncio.AbstractEventLoop = _process["loop"]
    return loop.run_until_complete(work())


def _close() -> None:
    loop: asyncio.AbstractEventLoop = _process["loop"]
    if (pool := _process.get("pool")) is not None:
        loop.run_until_complete(pool.close())
    sys.stdout.flush()
    sys.stderr.flush()
    # As `arrears.cli.main`: the SDK's native threads may abort a normal shutdown.
    os._exit(0)


async def _pool() -> asyncpg.Pool:
    if "pool" not in _process:
        _process["pool"] = await create_pool(Settings().db_url, max_size=2)
    pool: asyncpg.Pool = _process["pool"]
    return pool


def audit_chunk(case_ids: list[str], options: AuditOptions) -> list[CaseReport]:
    """In an audit process: the reports of cases on the server, in order."""

    async def work() -> list[CaseReport]:
        if "auditor" not in _process:
            client = await connect(Settings())
            _process["auditor"] = Auditor(client, await _pool(), options)
        auditor: Auditor = _process["auditor"]
        return await auditor.audit_all(case_ids)

    return _run(work)


async def audit_files(
    paths: Sequence[Path], options: AuditOptions, pool: asyncpg.Pool | None
) -> CaseReport:
    """One case from its exported run files (`--history`), reconciled when given a pool."""
    runs = [read_history(path) for path in paths]
    limits = Limits.at_now(options.stuck_after)
    audit = await audit_case(case_input_of(runs[0]).case_id, runs, pool, limits=limits)
    return audit.report(options.timelines)


def audit_files_chunk(
    cases: list[list[Path]], options: AuditOptions, reconcile: bool
) -> list[CaseReport]:
    """In an audit process: the reports of cases given as history files, in order."""

    async def work() -> list[CaseReport]:
        pool = await _pool() if reconcile else None
        return [await audit_files(paths, options, pool) for paths in cases]

    return _run(work)


async def reports_in_processes(
    pool: ProcessPoolExecutor,
    processes: int,
    task: Callable[..., list[CaseReport]],
    items: Sequence[Any],
    *args: Any,
) -> AsyncIterator[CaseReport]:
    """`task(chunk, *args)` over chunks of `items` in `pool`; reports in the items' order.
    On Ctrl-C (or an error) the tasks not started are dropped and the running ones end."""
    in_flight: deque[asyncio.Future[list[CaseReport]]] = deque()
    try:
        for start in range(0, len(items), CHUNK):
            chunk = list(items[start : start + CHUNK])
            in_flight.append(asyncio.wrap_future(pool.submit(task, chunk, *args)))
            if len(in_flight) >= 2 * processes:
                for report in await in_flight.popleft():
                    yield report
        while in_flight:
            for report in await in_flight.popleft():
                yield report
    except BaseException:
        for waiting in in_flight:
            waiting.cancel()  # their results will never be read
        stop_processes(pool)
        raise


def stop_processes(pool: ProcessPoolExecutor) -> None:
    """Drop the tasks not started and end the processes now, waiting for them: on Ctrl-C
    the operator gets the prompt back with nothing left running. (A shutdown alone
    would let each process finish its tasks, orphaned, after the command has ended.)"""
    for process in list(pool._processes.values()):  # no public way before Python 3.14
        process.terminate()
    pool.shutdown(wait=True, cancel_futures=True)  # joins them, closes the queues
