"""Small helpers shared by tests (fixtures live in the conftest.py files)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path


def free_port() -> int:
    """A TCP port nothing listens on right now, for a server a test starts."""
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """`count` distinct free TCP ports: each socket stays bound until all are drawn, so the
    kernel cannot hand out the same port twice (as successive free_port() calls may)."""
    with contextlib.ExitStack() as held:
        sockets = [held.enter_context(socket.socket()) for _ in range(count)]
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in sockets]


def bare_env(**extra: str) -> dict[str, str]:
    """This process's environment without any Arrears, Temporal or PostgreSQL setting (the
    outer shell's must not leak into an `arrears` process a test starts), plus `extra`."""
    inherited = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("ARREARS_", "TEMPORAL_", "PGSSL")) and name != "DATABASE_URL"
    }
    return inherited | {"ARREARS_LOG_FORMAT": "json"} | extra


async def wait_until(
    condition: Callable[[], Awaitable[bool]], what: str, timeout: float = 30
) -> None:
    """Poll a condition of the outside world until it holds, or fail naming it."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await condition():
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)


def dashboard_metrics(path: Path) -> set[str]:
    """Every metric name a Grafana dashboard's queries read (histograms as `_bucket`)."""
    document = json.loads(path.read_text())
    exprs = [
        target["expr"]
        for panel in document["panels"]
        for target in panel.get("targets", [])
        if "expr" in target
    ]
    return {name for expr in exprs for name in re.findall(r"\b(?:arrears|temporal)_\w+", expr)}
