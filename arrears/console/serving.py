"""Serving the console with uvicorn inside our own event loop, so that `arrears console`
and `make run` stop it with everything else on Ctrl-C."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

import uvicorn

from arrears.console.app import create_app
from arrears.crypto.vault import PersonalVault
from arrears.errors import UsageError
from arrears.settings import Settings


class _Server(uvicorn.Server):
    """uvicorn without its own SIGINT/SIGTERM handlers: `until_signalled` owns them, so
    Ctrl-C stops the console, the worker and the stack together, in order."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def console_url(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    return f"http://{shown}:{port}"


async def serve_console(
    settings: Settings, stop: asyncio.Event, host: str, port: int, vault: PersonalVault
) -> None:
    """Serve until `stop` is set. A port in use is one clear line (exit 2). The vault is
    made ready by the caller (`arrears.crypto.existing`) before anything listens, so a
    missing or wrong master key is one line and exit 3, not an error page later."""
    config = uvicorn.Config(
        create_app(settings, vault=vault), host=host, port=port, log_config=None, access_log=False,
        lifespan="on", server_header=False, proxy_headers=True, log_level="warning",
    )  # fmt: skip
    server = _Server(config)
    task = asyncio.ensure_future(server.serve())
    stopper = asyncio.ensure_future(stop.wait())
    await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
    server.should_exit = True
    stopper.cancel()
    try:
        await task
    except SystemExit:  # uvicorn logs the cause and exits when it cannot bind or start
        raise UsageError(
            f"the console could not listen on {host}:{port} (in use? pick --port)"
        ) from None
    with contextlib.suppress(asyncio.CancelledError):
        await stopper
