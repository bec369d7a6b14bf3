"""The gauges read from PostgreSQL (a real server, a fresh migrated database) keep being
refreshed through a failed read: one warning for the outage, the values again after it."""

from __future__ import annotations

import asyncio
import contextlib

import asyncpg
import structlog
from temporalio.runtime import MetricBuffer

from arrears.metrics import BusinessMetrics
from arrears.metrics.gauges import keep_refreshed
from tests.arrears.metrics.conftest import recorded
from tests.support import wait_until


async def test_a_failed_read_logs_one_warning_and_the_refresh_resumes_after_it(
    pool: asyncpg.Pool, metrics: BusinessMetrics, buffer: MetricBuffer
) -> None:
    async def cases_refreshed() -> bool:
        return any(name == "arrears_cases" for name, _, _ in recorded(buffer))

    with structlog.testing.capture_logs() as logs:
        refreshing = asyncio.create_task(keep_refreshed(pool, metrics, 0.05))
        try:
            await wait_until(cases_refreshed, "the first refresh")
            await pool.execute("ALTER TABLE cases RENAME TO cases_away")

            async def warned() -> bool:
                return any(line["log_level"] == "warning" for line in logs)

            await wait_until(warned, "a warning about the failed read")
            recorded(buffer)  # drain what was read before the outage
            await pool.execute("ALTER TABLE cases_away RENAME TO cases")
            await wait_until(cases_refreshed, "a refresh after the outage")
            assert not refreshing.done()
        finally:
            refreshing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await refreshing

    warnings = [line for line in logs if line["log_level"] == "warning"]
    assert [w["event"] for w in warnings] == ["metrics gauges not refreshed"]
    assert warnings[0]["error"] == "UndefinedTableError"
