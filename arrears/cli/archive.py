"""`arrears archive`: one archive sweep now, from the command line.

The schedule sweeps every minute on its own; this is for operators (after an outage,
before a planned retention change) and for tests. `--full` ignores the watermark and
lists every closed run Temporal still has; `--limit N` archives at most N runs (oldest
close time first) and moves the watermark only past those. The sweep's modules are
imported when the command runs, so `arrears --help` and other commands stay quick.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Annotated

import typer

from arrears.errors import UsageError
from arrears.settings import Settings

if TYPE_CHECKING:
    from arrears.store.archive_sweep import SweepRequest, SweepSummary


def archive_command(
    full: Annotated[
        bool, typer.Option("--full", help="List every closed run, not only recent ones.")
    ] = False,
    limit: Annotated[int | None, typer.Option(help="Archive at most this many runs.")] = None,
) -> None:
    """Copy every closed case run's history not archived yet into PostgreSQL now (the
    schedule does it every minute). The last line of stdout is the JSON summary: runs
    listed, archived now, archived before, gone from Temporal, and the watermark."""
    if limit is not None and limit < 1:
        raise UsageError("--limit must be at least 1")
    from arrears.store.archive_sweep import SweepRequest

    summary = asyncio.run(_sweep_now(Settings(), SweepRequest(full=full, limit=limit)))
    print(summary.model_dump_json(), flush=True)


async def _sweep_now(settings: Settings, request: SweepRequest) -> SweepSummary:
    """One sweep now, on a client and a pool of its own. Here rather than in
    `arrears/store/` so that the store package does not reach into `arrears/stack/`."""
    from arrears.stack.temporal import connect
    from arrears.store.archive_sweep import sweep
    from arrears.store.db import create_pool

    client = await connect(settings)
    pool = await create_pool(settings.db_url, max_size=4)
    try:
        return await sweep(client, pool, request)
    finally:
        await pool.close()
