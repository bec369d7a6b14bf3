"""A one-activity workflow that proves the stack end to end: server, worker, PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.stack_check import StackCheck, StackCheckActivities, StackCheckRecorded


@workflow.defn(name="StackCheck")
class StackCheckWorkflow:
    @workflow.run
    async def run(self, check: StackCheck) -> StackCheckRecorded:
        workflow.logger.info("stack check started")
        return await workflow.execute_activity_method(
            StackCheckActivities.record_stack_check,
            check,
            start_to_close_timeout=timedelta(seconds=30),
        )
