"""`arrears archive`: one archive sweep now, from the command line.

The schedule sweeps every minute on its own; this is for operators (after an outage,
before a planned retention change) and for tests. `--full` ignores the watermark and
lists every closed run Temporal still has; `--limit N` archives at most N runs (oldest
close time first) and moves the watermark only past those.
"""

from __future__ import annotations

import asyncio

from arrears.archive_sweep import SweepRequest, sweep
from arrears.db import create_pool
from arrears.errors import UsageError
from arrears.settings import Settings
from arrears.stack.temporal import connect


async def _run(request: SweepRequest) -> str:
    settings = Settings()
    client = await connect(settings)
    pool = await create_pool(settings.db_url, max_size=4)
    try:
        summary = await sweep(client, pool, request)
    finally:
        await pool.close()
    return summary.model_dump_json()


def run_archive(full: bool, limit: int | None) -> str:
    """The sweep's JSON summary: runs listed, archived now, archived before, gone."""
    if limit is not None and limit < 1:
        raise UsageError("--limit must be at least 1")
    return asyncio.run(_run(SweepRequest(full=full, limit=limit)))
