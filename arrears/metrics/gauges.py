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

#: How a pending approval request ends (four-eyes, issue 16). The requests still pending
#: are those requested and not yet ended; counted on `case_events` by type (indexed), so
#: the gauge works with or without a read model of the requests.
APPROVAL_ENDED: Final = ("approval_granted", "approval_rejected", "approval_expired")

OPEN_BY_STAGE: Final = (
    "SELECT stage, count(*) AS cases FROM cases WHERE outcome IS NULL GROUP BY stage"
)
PENDING_APPROVALS: Final = (
    "SELECT count(*) FILTER (WHERE type = $1) - count(*) FILTER (WHERE type = ANY($2::text[]))"
    " FROM case_events WHERE type = $1 OR type = ANY($2::text[])"
)


async def refresh(pool: asyncpg.Pool, metrics: BusinessMetrics) -> None:
    """Read both gauges in one snapshot and set them."""
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
        rows = await conn.fetch(OPEN_BY_STAGE)
        pending = await conn.fetchval(PENDING_APPROVALS, APPROVAL_REQUESTED, list(APPROVAL_ENDED))
    metrics.cases_by_stage({row["stage"]: row["cases"] for row in rows})
    metrics.approvals_pending(max(int(pending or 0), 0))


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
