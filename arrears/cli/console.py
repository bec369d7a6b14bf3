"""`arrears console`: its options; the application is `arrears.console`."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from arrears.settings import Settings


def console(
    host: Annotated[
        str | None, typer.Option(help="Address to listen on (default 127.0.0.1).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on (default 8080).")] = None,
) -> None:
    """Serve the web console (worklists, cases, the book, audit) against the configured
    Temporal and PostgreSQL, until Ctrl-C. Sign in with a user from `arrears users`."""
    from arrears.console.serving import console_url, serve_console
    from arrears.crypto.existing import open_vault
    from arrears.serve.running import until_signalled

    settings = Settings()
    host = host or settings.console_host
    port = port or settings.console_port
    vault = asyncio.run(open_vault(settings))  # a missing or wrong master key: exit 3
    print(f"Console: {console_url(host, port)}", flush=True)
    asyncio.run(until_signalled(lambda stop: serve_console(settings, stop, host, port, vault)))
