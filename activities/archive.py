"""The archive sweep's activity: copy closed runs' histories into the run archive.

It needs a Temporal client (visibility and histories) besides the pool; both are handed in
where the worker is built.
"""

from __future__ import annotations

import asyncpg
from temporalio import activity
from temporalio.client import Client

from arrears.store.archive_sweep import SweepRequest, SweepSummary, sweep


class ArchiveActivities:
    def __init__(self, client: Client, pool: asyncpg.Pool) -> None:
        self._client = client
        self._pool = pool

    @activity.defn(name="archive_closed_runs")
    async def archive_closed_runs(self, request: SweepRequest) -> SweepSummary:
        summary = await sweep(self._client, self._pool, request, heartbeat=activity.heartbeat)
        activity.logger.info(
            "archive sweep done",
            extra={"archived": summary.archived, "listed": summary.listed, "gone": summary.gone},
        )
        return summary
