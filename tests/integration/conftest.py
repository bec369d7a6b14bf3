"""Run `arrears` as a real process, the way an operator does, and watch what it prints;
and a whole stack (`arrears up` and one `arrears worker`) for a module's tests."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import asyncpg
import psutil
import pytest
from temporalio.client import Client

from arrears.settings import Settings
from arrears.stack.temporal import connect
from arrears.store.db import create_pool
from domain.intake import open_case
from domain.placement import PlacementRow
from domain.policy import Policy
from domain.state import CaseState
from tests.support import free_ports
from workflows.case import CaseWorkflow
from workflows.case_io import BusinessClock, CaseInput, CaseView

ARREARS = str(Path(sys.executable).parent / "arrears")


@dataclass
class ArrearsProcess:
    """A running `arrears ...` with its stdout lines collected as they arrive."""

    process: asyncio.subprocess.Process
    lines: list[str] = field(default_factory=list)

    async def wait_for_line(self, pattern: str, timeout: float = 120) -> re.Match[str]:
        """The first stdout line matching `pattern` (already seen or still to come)."""
        regex = re.compile(pattern)

        async def read() -> re.Match[str]:
            for line in self.lines:
                if found := regex.search(line):
                    return found
            assert self.process.stdout is not None
            while raw := await self.process.stdout.readline():
                line = raw.decode().rstrip("\n")
                self.lines.append(line)
                if found := regex.search(line):
                    return found
            stderr = b""
            if self.process.stderr is not None:
                stderr = await self.process.stderr.read()
            raise AssertionError(
                f"arrears exited ({await self.process.wait()}) before printing {pattern!r}; "
                f"stdout={self.lines} stderr={stderr.decode()[-2000:]}"
            )

        return await asyncio.wait_for(read(), timeout)

    def descendants(self) -> list[psutil.Process]:
        return psutil.Process(self.process.pid).children(recursive=True)

    async def stop(self, sig: int, timeout: float = 90) -> int:
        self.process.send_signal(sig)
        return await asyncio.wait_for(self.process.wait(), timeout)


@dataclass
class StackEnv:
    """Environment for an `arrears` process with its own data directory and ports."""

    home: Path
    temporal_port: int = field(init=False)
    ui_port: int = field(init=False)
    pg_port: int = field(init=False)

    def __post_init__(self) -> None:
        # Drawn together: three separate free_port() calls can return the same port twice.
        self.temporal_port, self.ui_port, self.pg_port = free_ports(3)

    def as_env(self) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not (k.startswith("ARREARS_") or k in ("TEMPORAL_ADDRESS", "DATABASE_URL"))
        }
        env.update(
            ARREARS_HOME=str(self.home),
            ARREARS_TEMPORAL_PORT=str(self.temporal_port),
            ARREARS_UI_PORT=str(self.ui_port),
            ARREARS_PG_PORT=str(self.pg_port),
            ARREARS_LOG_FORMAT="json",
        )
        return env


@pytest.fixture
def stack_env(tmp_path: Path) -> StackEnv:
    return StackEnv(home=tmp_path / "arrears-home")


Spawn = Callable[..., "asyncio.Future[ArrearsProcess]"]


async def start_arrears(*args: str, env: dict[str, str]) -> ArrearsProcess:
    """`arrears ARGS` started with `env`, stdin closed, stdout and stderr piped."""
    process = await asyncio.create_subprocess_exec(
        ARREARS,
        *args,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    return ArrearsProcess(process)


@pytest.fixture
async def spawn() -> AsyncIterator[Callable[..., object]]:
    """Start `arrears ARGS` with an environment; anything still running is killed at the end."""
    started: list[ArrearsProcess] = []

    async def _spawn(*args: str, env: dict[str, str]) -> ArrearsProcess:
        handle = await start_arrears(*args, env=env)
        started.append(handle)
        return handle

    yield _spawn
    for handle in started:
        if handle.process.returncode is None:
            for child in handle.descendants():
                with contextlib.suppress(psutil.NoSuchProcess):
                    child.kill()  # it may have ended since it was listed
            handle.process.send_signal(signal.SIGKILL)
            await handle.process.wait()


async def run_arrears(*args: str, env: dict[str, str], timeout: float = 60) -> tuple[int, str, str]:
    """Run a short-lived `arrears` command; return (exit code, stdout, stderr)."""
    process = (await start_arrears(*args, env=env)).process
    out, err = await asyncio.wait_for(process.communicate(), timeout)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def run_cases_for(
    client: Client, queue: str, rows: Sequence[PlacementRow], origin: datetime, days: int
) -> None:
    """One case per row on a fast business clock (a day in 0.03 s) from `origin`, each run
    to `days` business days later (outcome open if nothing closed it) and awaited."""
    for row in rows:
        await client.start_workflow(
            CaseWorkflow.run,
            CaseInput(
                case_id=row.case_id,
                policy=Policy(),
                open=open_case(row),
                clock=BusinessClock(origin=origin, day_seconds=0.03),
                until=origin + timedelta(days=days),
            ),
            id=row.case_id,
            task_queue=queue,
        )
    for row in rows:
        await client.get_workflow_handle(row.case_id).result()


# --- a whole stack for a module -------------------------------------------------------


@dataclass
class Stack:
    """A running stack: the environment of its `arrears` processes, a client, a pool (the
    application's, with its JSONB codecs), the worker's task queue, the superuser URL."""

    env: dict[str, str]
    client: Client
    pool: asyncpg.Pool
    task_queue: str
    pg_url: str

    async def arrears(self, *args: str, **env: str) -> tuple[int, str, str]:
        return await run_arrears(*args, env=self.env | env)

    async def view(self, case_id: str) -> CaseView:
        view: CaseView = await self.client.get_workflow_handle(case_id).query(
            "state", result_type=CaseView
        )
        return view

    async def state(self, case_id: str) -> CaseState:
        return (await self.view(case_id)).state


async def _stop(handle: ArrearsProcess, sig: int) -> None:
    if handle.process.returncode is not None:
        return
    try:
        await handle.stop(sig, timeout=60)
    except TimeoutError:
        for child in handle.descendants():
            with contextlib.suppress(psutil.NoSuchProcess):
                child.kill()
        handle.process.kill()
        await handle.process.wait()


@pytest.fixture(scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    """`arrears up` and one `arrears worker` for the whole module, stopped in order."""
    stack_env = StackEnv(home=tmp_path_factory.mktemp("supervisors") / "arrears-home")
    queue = f"supervisors-{uuid.uuid4().hex[:8]}"
    env = stack_env.as_env() | {"ARREARS_TASK_QUEUE": queue}
    up = await start_arrears("up", env=env)
    worker: ArrearsProcess | None = None
    try:
        pg_url = (await up.wait_for_line(r"^PostgreSQL: (\S+)")).group(1)
        await up.wait_for_line(r"^Ready\.")
        worker = await start_arrears("worker", env=env)
        settings = Settings(
            temporal_port=stack_env.temporal_port, pg_port=stack_env.pg_port, task_queue=queue
        )
        client = await connect(settings)
        pool = await create_pool(pg_url, max_size=4)
        try:
            yield Stack(env=env, client=client, pool=pool, task_queue=queue, pg_url=pg_url)
        finally:
            await pool.close()
    finally:
        if worker is not None:
            await _stop(worker, signal.SIGTERM)
        await _stop(up, signal.SIGINT)
