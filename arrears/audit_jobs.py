"""`arrears audit --jobs N`: the per-case audit in N spawned processes.

Replaying histories is CPU work in Python, so one process uses one core. Each process
opens its own client and pool once and audits a few cases per task; at most two tasks
per process are in flight, and reports come back in the order of the case ids, so any N
gives the same output.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import sys
from collections import deque
from collections.abc import AsyncIterator, Sequence

from arrears.audit import CaseReport
from arrears.audit_runner import AuditOptions, Auditor
from arrears.db import create_pool
from arrears.logs import configure_logging
from arrears.settings import Settings
from arrears.spawned import leave_interrupts_to_the_parent, process_pool
from arrears.stack.temporal import connect, install_runtime

#: Cases per task: a one-year case replays in about half a second, so a task is a
#: couple of seconds, and the last one leaves a process idle only briefly.
CHUNK = 4

_auditor: tuple[asyncio.AbstractEventLoop, Auditor] | None = None


def _start_process() -> None:
    leave_interrupts_to_the_parent()
    configure_logging(Settings())
    install_runtime()


def _auditor_of_this_process(options: AuditOptions) -> tuple[asyncio.AbstractEventLoop, Auditor]:
    """One loop, client and pool per process, made on its first task and kept."""
    global _auditor
    if _auditor is None:
        settings = Settings()
        loop = asyncio.new_event_loop()
        client = loop.run_until_complete(connect(settings))
        pool = loop.run_until_complete(create_pool(settings.db_url, max_size=2))

        def close() -> None:
            loop.run_until_complete(pool.close())
            sys.stdout.flush()
            sys.stderr.flush()
            # As `arrears.cli.main`: the SDK's native threads may abort a normal shutdown.
            os._exit(0)

        atexit.register(close)
        _auditor = (loop, Auditor(client, pool, options))
    return _auditor


def audit_chunk(case_ids: list[str], options: AuditOptions) -> list[CaseReport]:
    """Runs in a worker process: the reports of `case_ids`, in order."""
    loop, auditor = _auditor_of_this_process(options)
    return loop.run_until_complete(auditor.audit_all(case_ids))


async def audit_in_processes(
    case_ids: Sequence[str], options: AuditOptions, processes: int
) -> AsyncIterator[CaseReport]:
    """Every case's report, in the order of `case_ids`, audited in `processes` processes.
    On Ctrl-C (or an error) the tasks not started are dropped and the running ones end."""
    chunks = [list(case_ids[i : i + CHUNK]) for i in range(0, len(case_ids), CHUNK)]
    with process_pool(processes, _start_process) as pool:
        in_flight: deque[asyncio.Future[list[CaseReport]]] = deque()
        try:
            for chunk in chunks:
                in_flight.append(asyncio.wrap_future(pool.submit(audit_chunk, chunk, options)))
                if len(in_flight) >= 2 * processes:
                    for report in await in_flight.popleft():
                        yield report
            while in_flight:
                for report in await in_flight.popleft():
                    yield report
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
