"""`arrears archive`: one archive sweep now, from the command line.

The schedule sweeps every minute on its own; this is for operators (after an outage,
before a planned retention change) and for tests. `--full` ignores the watermark and
lists every closed run Temporal still has.
"""

from __future__ import annotations

import asyncio

from arrears.archive_sweep import SweepRequest, sweep
from arrears.db import create_pool
from arrears.settings import Settings
from arrears.stack.temporal import connect


async def _run(full: bool) -> str:
    settings = Settings()
    client = await connect(settings)
    pool = await create_pool(settings.db_url, max_size=4)
    try:
        summary = await sweep(client, pool, SweepRequest(full=full))
    finally:
        await pool.close()
    return summary.model_dump_json()


def run_archive(full: bool) -> str:
    """The sweep's JSON summary: runs listed, archived now, archived before, gone."""
    return asyncio.run(_run(full))
