"""Small helpers shared by tests (fixtures live in the conftest.py files)."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A TCP port nothing listens on right now, for a server a test starts."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
