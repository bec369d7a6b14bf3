"""Work spread over spawned processes (`simulate --jobs`, `audit --jobs`).

Spawned, not forked: the CLI process runs the Temporal SDK's native threads
(`install_runtime`), and a fork copies whatever locks they hold at that moment. Each
worker process ignores Ctrl-C: the parent stops the pool, and the operator sees one
message, not a traceback from every process.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any


def cores() -> int:
    """The cores this process may run on (its affinity where the system has one)."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity else (os.cpu_count() or 1)


def leave_interrupts_to_the_parent() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def process_pool(
    processes: int,
    initializer: Callable[..., None] = leave_interrupts_to_the_parent,
    initargs: tuple[Any, ...] = (),
) -> ProcessPoolExecutor:
    """A pool of `processes` spawned processes whose `initializer` (at least) ignores
    Ctrl-C."""
    return ProcessPoolExecutor(
        processes,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=initializer,
        initargs=initargs,
    )
