"""`ArchiveSweep`: one archive sweep, started by the `arrears-archive-sweep` schedule.

A failed sweep is retried a few times and then left to the next scheduled one: the
watermark only moves past runs that were archived, so nothing is skipped.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.archive import ArchiveActivities
    from arrears.store.archive_sweep import SWEEP_WORKFLOW, SweepRequest, SweepSummary


@workflow.defn(name=SWEEP_WORKFLOW)
class ArchiveSweepWorkflow:
    @workflow.run
    async def run(self, request: SweepRequest) -> SweepSummary:
        return await workflow.execute_activity_method(
            ArchiveActivities.archive_closed_runs,
            request,
            start_to_close_timeout=timedelta(minutes=20),
            heartbeat_timeout=timedelta(minutes=2),
            retry_policy=RetryPolicy(maximum_attempts=3, initial_interval=timedelta(seconds=5)),
        )
