"""`arrears up`, `arrears run`, `arrears worker` and `arrears migrate`: their options; what
runs is `arrears.serve.running` (the stack, a worker, the demo) and `arrears.store.db`."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from arrears.errors import UsageError
from arrears.settings import Settings


def up() -> None:
    """Start the embedded stack (Temporal dev server + Web UI, PostgreSQL) until Ctrl-C.

    Uses TEMPORAL_ADDRESS / DATABASE_URL instead of starting its own where they are set.
    Applies database migrations and registers the search attributes.
    """
    from arrears.serve.running import serve, until_signalled

    settings = Settings()
    asyncio.run(until_signalled(lambda stop: serve(settings, stop, with_worker=False)))


def run(
    sample: Annotated[Path, typer.Option(help="Placement file imported at start.")] = Path(
        "examples/placement.csv"
    ),
    day_seconds: Annotated[
        float, typer.Option(help="Seconds per business day of the sample.")
    ] = 2.0,
    no_sample: Annotated[bool, typer.Option("--no-sample", help="Start no sample cases.")] = False,
) -> None:
    """The newcomer's `make run`: the stack, one worker, the sample portfolio imported on a
    fast business clock, and a live summary until Ctrl-C. A second run continues with the
    same data and starts no duplicates."""
    from arrears.serve.running import Demo, serve, until_signalled

    settings = Settings()
    if day_seconds <= 0:
        raise UsageError("--day-seconds must be positive")
    use = None if no_sample or not sample.exists() else sample
    demo = Demo(sample=use, day_seconds=day_seconds)
    asyncio.run(until_signalled(lambda stop: serve(settings, stop, with_worker=True, demo=demo)))


def worker() -> None:
    """Run a worker (workflows and activities) against the configured Temporal and PostgreSQL."""
    from arrears.serve.running import until_signalled
    from arrears.workers import run_worker

    settings = Settings()
    asyncio.run(until_signalled(lambda stop: run_worker(settings, stop)))


def migrate() -> None:
    """Apply the database migrations that are missing (idempotent)."""
    from arrears.store.db import migrate_database

    applied = asyncio.run(migrate_database(Settings().db_url))
    print(f"Applied: {', '.join(applied)}" if applied else "Database is up to date.", flush=True)
