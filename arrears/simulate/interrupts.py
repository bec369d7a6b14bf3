"""Ctrl-C and SIGTERM during `arrears simulate --portfolio`: raised where the run is, so
its ordinary cleanup (the scratch database dropped or its private server stopped and
deleted, the worker processes stopped) runs at once.

Python's default SIGTERM ends the process on the spot, leaving a private server's
temporary directory behind; and `asyncio.run`'s Ctrl-C only cancels the main task at its
next `await`, which a simulation between two COPYs may not reach for seconds. Here both
raise `Interrupted` in the main thread, whatever it is doing. A second signal while the
cleanup runs is ignored, so the cleanup is not cut short (it takes well under a second).
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from types import FrameType

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(KeyboardInterrupt):
    """The run was stopped by a signal; `exit_code` is the shell's 128 + its number."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


@contextlib.contextmanager
def signals_interrupt() -> Iterator[None]:
    """Within the block, the first SIGINT or SIGTERM raises `Interrupted`; later ones are
    ignored. The handlers before it are restored after. Main thread only (as every
    Python signal handler)."""
    stopping = False

    def interrupt(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        if stopping:
            return
        stopping = True
        raise Interrupted(signum)

    before = {sig: signal.signal(sig, interrupt) for sig in SIGNALS}
    try:
        yield
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler)
