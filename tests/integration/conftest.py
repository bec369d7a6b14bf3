"""Run `arrears` as a real process, the way an operator does, and watch what it prints."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import psutil
import pytest
from temporalio.client import Client

from domain.intake import open_case
from domain.placement import PlacementRow
from domain.policy import Policy
from tests.support import free_ports
from workflows.case import CaseWorkflow
from workflows.case_io import BusinessClock, CaseInput

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
