"""Serving the console with uvicorn inside our own event loop, so that `arrears console`
and `make run` stop it with everything else on Ctrl-C."""

from __future__ import annotations

import asyncio
import contextlib
import errno

import uvicorn

from arrears.console.app import create_app
from arrears.errors import ServiceUnavailable, UsageError
from arrears.settings import Settings


def console_url(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    return f"http://{shown}:{port}"


async def serve_console(settings: Settings, stop: asyncio.Event, host: str, port: int) -> None:
    """Serve until `stop` is set. A port in use is one clear line (exit 2)."""
    config = uvicorn.Config(
        create_app(settings), host=host, port=port, log_config=None, access_log=False,
        lifespan="on", server_header=False, proxy_headers=True,
    )  # fmt: skip
    server = uvicorn.Server(config)
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    task = asyncio.ensure_future(server.serve())
    stopper = asyncio.ensure_future(stop.wait())
    await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
    server.should_exit = True
    stopper.cancel()
    try:
        await task
    except SystemExit:  # uvicorn exits when it cannot bind or start the app
        raise UsageError(f"the console could not listen on {host}:{port}") from None
    except OSError as err:
        if err.errno == errno.EADDRINUSE:
            raise UsageError(f"port {port} on {host} is in use: pick --port") from None
        raise ServiceUnavailable(f"the console could not start: {err}") from None
    with contextlib.suppress(asyncio.CancelledError):
        await stopper
