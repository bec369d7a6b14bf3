"""The faults of the soak, done to real processes, and how the soak watches the book.

A stack here is `arrears up` (the embedded PostgreSQL and Temporal dev server as its
children) plus `arrears worker` processes. A fault is done to those processes with
signals found through psutil; a server that is restarted alone is started again from the
project's own classes (`EmbeddedPostgres`, `DevServer`) on the same data directory, as
`arrears up` starts it, and is then a child of the test.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg
import psutil

from arrears.settings import Settings
from arrears.stack.postgres import EmbeddedPostgres
from arrears.stack.temporal import DevServer
from tests.integration.conftest import ARREARS, ArrearsProcess

#: How long the book may take to move again after a fault before the soak fails.
RECOVERY_DEADLINE = 240.0


def _server(parent_pid: int, name: str) -> psutil.Process:
    """The direct child of `parent_pid` running the binary `name` (postgres, temporal)."""
    found = [p for p in psutil.Process(parent_pid).children() if p.name() == name]
    assert len(found) == 1, f"expected one {name} under process {parent_pid}, found {found}"
    return found[0]


def _signal_all(processes: list[psutil.Process], sig: int) -> None:
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):  # a backend may have just ended
            process.send_signal(sig)


async def freeze_postgres(up: ArrearsProcess, seconds: float) -> int:
    """SIGSTOP PostgreSQL's postmaster, then every process it forked (backends, WAL
    writer, checkpointer...), hold them `seconds`, then SIGCONT them all. The postmaster
    is stopped first so that it forks nothing new meanwhile. Returns how many processes
    were frozen."""
    postmaster = _server(up.process.pid, "postgres")
    postmaster.send_signal(signal.SIGSTOP)
    frozen = [postmaster, *postmaster.children(recursive=True)]
    _signal_all(frozen[1:], signal.SIGSTOP)
    try:
        await asyncio.sleep(seconds)  # the fault's length, not a synchronisation
    finally:
        _signal_all(list(reversed(frozen)), signal.SIGCONT)
    return len(frozen)


async def _ended(process: psutil.Process, timeout: float = 60) -> None:
    await asyncio.to_thread(process.wait, timeout)


async def restart_postgres(up: ArrearsProcess, settings: Settings) -> EmbeddedPostgres:
    """Fast shutdown of the PostgreSQL that `up` started (SIGINT: open transactions roll
    back, connections drop), then PostgreSQL started again on the same data directory and
    port. The caller stops the returned server."""
    postmaster = _server(up.process.pid, "postgres")
    postmaster.send_signal(signal.SIGINT)
    await _ended(postmaster)
    server = EmbeddedPostgres(settings.home.resolve(), settings.pg_port)
    await server.start()
    return server


async def restart_temporal(up: ArrearsProcess, settings: Settings) -> DevServer:
    """SIGTERM the Temporal dev server that `up` started, wait for it to end, and start
    it again on its SQLite file (the state of every workflow). The caller stops it."""
    temporal = _server(up.process.pid, "temporal")
    temporal.send_signal(signal.SIGTERM)
    await _ended(temporal)
    server = DevServer(settings, settings.home.resolve())
    await server.start()
    return server


@dataclass
class Workers:
    """`arrears worker` processes, each logging to its own file (a pipe nobody reads
    would fill up and stall the worker)."""

    env: dict[str, str]
    log_dir: Path
    running: list[asyncio.subprocess.Process] = field(default_factory=list)
    started: int = 0
    killed: int = 0

    async def start(self) -> None:
        self.started += 1
        with (self.log_dir / f"worker-{self.started}.log").open("ab") as log:
            process = await asyncio.create_subprocess_exec(
                ARREARS,
                "worker",
                env=self.env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )
        self.running.append(process)

    async def kill_one(self) -> None:
        """SIGKILL the oldest worker: no shutdown, its tasks and activities abandoned."""
        process = self.running.pop(0)
        process.send_signal(signal.SIGKILL)
        await process.wait()
        self.killed += 1

    async def stop_all(self) -> None:
        """SIGTERM every worker and wait: they finish what they hold, then exit."""
        for process in self.running:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
        for process in self.running:
            try:
                await asyncio.wait_for(process.wait(), 90)
            except TimeoutError:
                process.kill()
                await process.wait()
        self.running.clear()

    def log_lines(self, *needles: str) -> int:
        """Lines of every worker's log holding any of `needles` (warnings, retries)."""
        count = 0
        for path in self.log_dir.glob("worker-*.log"):
            with path.open(errors="replace") as handle:
                count += sum(1 for line in handle if any(n in line for n in needles))
        return count


@dataclass
class Book:
    """Reads of PostgreSQL for the soak: a fresh connection each time, so that a read
    right after PostgreSQL restarted does not meet a connection that died with it."""

    url: str

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        conn = await asyncpg.connect(self.url, timeout=10)
        try:
            return list(await conn.fetch(sql, *args, timeout=120))
        finally:
            await conn.close()

    async def value(self, sql: str, *args: Any) -> Any:
        return (await self.fetch(sql, *args))[0][0]

    async def now(self) -> datetime:
        """The database's clock: `recorded_at` of events is on it."""
        return await self.value("SELECT now()")  # type: ignore[no-any-return]

    async def cases_moved_since(self, since: datetime) -> int:
        return int(
            await self.value(
                "SELECT count(DISTINCT case_id) FROM case_events WHERE recorded_at > $1", since
            )
        )

    async def counts(self) -> dict[str, int]:
        row = (
            await self.fetch(
                """SELECT (SELECT count(*) FROM case_events) AS events,
                          (SELECT count(*) FROM contact_attempts) AS contact_attempts,
                          (SELECT count(*) FROM payments) AS payments,
                          (SELECT count(*) FROM overrides) AS overrides,
                          (SELECT count(*) FROM run_archive) AS archived_runs"""
            )
        )[0]
        return dict(row)


async def poll(condition: Callable[[], Awaitable[bool]], what: str, timeout: float) -> float:
    """Poll the outside world until `condition` holds; the seconds it took. A read that
    fails while a server comes back (connection refused or dropped) counts as not yet."""
    started = time.monotonic()
    while True:
        try:
            if await condition():
                return time.monotonic() - started
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError):
            pass
        assert time.monotonic() - started < timeout, f"timed out after {timeout:.0f}s: {what}"
        await asyncio.sleep(0.5)


async def db_now(book: Book) -> datetime:
    """The database's clock, waiting for the database to answer (it may be restarting)."""
    found: list[datetime] = []

    async def answered() -> bool:
        found.append(await book.now())
        return True

    await poll(answered, "PostgreSQL to answer", RECOVERY_DEADLINE)
    return found[-1]


async def recovery(book: Book, since: datetime, moving: int) -> float:
    """Seconds until at least `moving` cases appended an event recorded after `since`
    (the end of a fault, on the database's clock): the book moves again."""

    async def moved() -> bool:
        return await book.cases_moved_since(since) >= moving

    return await poll(moved, f"{moving} cases to move after the fault", RECOVERY_DEADLINE)
