"""The gauges read from PostgreSQL: open cases by stage (the `cases` read model) and
approval requests still pending, refreshed by a task of each worker that serves metrics.

Every such worker reports the same book-wide values, so a dashboard takes `max` over the
workers, never the sum. A failed read (PostgreSQL restarting) leaves the last values and
logs one warning line; the worker itself carries on.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Final

import asyncpg

from arrears.logs import get_logger
from arrears.metrics.business import APPROVAL_REQUESTED, BusinessMetrics

#: How a pending approval request ends (four-eyes, issue 16), each naming its
#: `request_id`; a case that ends withdraws its pending requests without an event.
APPROVAL_ENDED: Final = ("approval_granted", "approval_rejected", "approval_expired")

OPEN_BY_STAGE: Final = (
    "SELECT stage, count(*) AS cases FROM cases WHERE outcome IS NULL GROUP BY stage"
)
#: Requests of open cases not ended yet, on `case_events` (the `type` index, then each
#: case's own events): it needs no read model of the requests.
PENDING_APPROVALS: Final = """
SELECT count(*) FROM case_events r JOIN cases c ON c.case_id = r.case_id
 WHERE r.type = $1 AND c.outcome IS NULL
   AND NOT EXISTS (
       SELECT 1 FROM case_events e
        WHERE e.case_id = r.case_id AND e.type = ANY($2::text[])
          AND e.payload->>'request_id' = r.payload->>'request_id')
"""


async def refresh(pool: asyncpg.Pool, metrics: BusinessMetrics) -> None:
    """Read both gauges in one snapshot and set them."""
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
        rows = await conn.fetch(OPEN_BY_STAGE)
        pending = await conn.fetchval(PENDING_APPROVALS, APPROVAL_REQUESTED, list(APPROVAL_ENDED))
    metrics.cases_by_stage({row["stage"]: row["cases"] for row in rows})
    metrics.approvals_pending(int(pending))


async def keep_refreshed(pool: asyncpg.Pool, metrics: BusinessMetrics, interval: float) -> None:
    """Refresh every `interval` seconds until cancelled."""
    log = get_logger("arrears.metrics")
    failing = False
    while True:
        try:
            await refresh(pool, metrics)
            failing = False
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as err:
            if not failing:  # one line per outage, not one per interval
                log.warning("metrics gauges not refreshed", error=type(err).__name__)
            failing = True
        await asyncio.sleep(interval)


class GaugeRefresher:
    """The refreshing task, started with the worker and cancelled when it stops."""

    def __init__(self) -> None:
        self._task: asyncio.Task[None] | None = None

    def start(self, pool: asyncpg.Pool, metrics: BusinessMetrics, interval: float) -> None:
        self._task = asyncio.ensure_future(keep_refreshed(pool, metrics, interval))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
