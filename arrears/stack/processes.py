"""Child processes of the embedded stack, and the pre-flight checks before starting them."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import errno
import os
import signal
import socket
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from arrears.errors import ServiceUnavailable

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """Runs in the child between fork and exec: ask the kernel to SIGTERM it if we die.

    This is what makes "no process left behind" hold even when `arrears up` itself is
    killed with SIGKILL and gets no chance to stop its children. It runs after the
    subprocess module has switched user (postgres runs as a non-root user), so the
    setting survives the credential change.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def check_port_free(port: int, what: str, setting: str) -> None:
    """Fail with one clear line if something already listens on the port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # Like the servers themselves: a port in TIME_WAIT after our own restart is free,
        # only a live listener makes the bind fail.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as err:
            if err.errno == errno.EADDRINUSE:
                raise ServiceUnavailable(
                    f"port {port} ({what}) is already in use: stop what holds it "
                    f"or choose another port with {setting}"
                ) from None
            raise ServiceUnavailable(f"cannot use port {port} ({what}): {err.strerror}") from None


def ensure_writable_dir(path: Path, what: str) -> Path:
    """Create the directory if needed and prove it is writable, or fail with one line."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        marker = path / ".write-test"
        marker.write_text("ok")
        marker.unlink()
    except OSError as err:
        reason = err.strerror or str(err)
        raise ServiceUnavailable(f"{what} {path} is not writable: {reason}") from None
    return path.resolve()


class ChildProcess:
    """One long-running server process that we started and must stop."""

    def __init__(self, name: str, process: asyncio.subprocess.Process, log_path: Path) -> None:
        self.name = name
        self.process = process
        self.log_path = log_path

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def running(self) -> bool:
        return self.process.returncode is None

    @classmethod
    async def start(
        cls,
        name: str,
        argv: Sequence[str],
        log_path: Path,
        *,
        user: str | None = None,
        env: dict[str, str] | None = None,
    ) -> ChildProcess:
        log = log_path.open("ab")
        try:
            process = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
                preexec_fn=_die_with_parent,
                user=user,
                env=env,
            )
        except OSError as err:
            raise ServiceUnavailable(f"cannot start {name}: {err}") from None
        finally:
            log.close()
        return cls(name, process, log_path)

    def log_tail(self, lines: int = 5) -> str:
        try:
            text = self.log_path.read_text(errors="replace").strip().splitlines()
        except OSError:
            return ""
        return " | ".join(line.strip() for line in text[-lines:])

    async def stop(self, sig: int = signal.SIGTERM, grace_seconds: float = 30.0) -> None:
        """Ask politely with `sig`, then SIGKILL the whole process group after the grace."""
        if not self.running:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)
        try:
            await asyncio.wait_for(self.process.wait(), grace_seconds)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            await self.process.wait()


async def wait_until_ready(
    child: ChildProcess,
    probe: Callable[[], Awaitable[bool]],
    *,
    timeout: float,
    interval: float = 0.2,
) -> None:
    """Poll `probe` until it returns True; fail clearly if the child dies or time runs out.

    Polling is right here: a server gives no other signal that it accepts connections.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        if not child.running:
            raise ServiceUnavailable(
                f"{child.name} exited with code {child.process.returncode} while starting"
                f" (log {child.log_path}): {child.log_tail()}"
            )
        if await probe():
            return
        if loop.time() > deadline:
            raise ServiceUnavailable(
                f"{child.name} did not become ready within {timeout:.0f}s"
                f" (log {child.log_path}): {child.log_tail()}"
            )
        await asyncio.sleep(interval)
