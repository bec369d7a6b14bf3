"""Small helpers shared by tests (fixtures live in the conftest.py files)."""

from __future__ import annotations

import contextlib
import socket


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
