"""The stack check's activity: one row written through the worker's asyncpg pool."""

from __future__ import annotations

from datetime import datetime

import asyncpg
from pydantic import BaseModel
from temporalio import activity


class StackCheck(BaseModel):
    """Input of the stack check: an id chosen by the caller, so a retry writes nothing twice."""

    check_id: str


class StackCheckRecorded(BaseModel):
    check_id: str
    workflow_id: str
    run_id: str
    recorded_at: datetime


class StackCheckActivities:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @activity.defn(name="record_stack_check")
    async def record_stack_check(self, check: StackCheck) -> StackCheckRecorded:
        info = activity.info()
        async with self._pool.acquire() as conn:
            # A retried attempt finds the row of the first and returns it unchanged.
            await conn.execute(
                """INSERT INTO stack_checks (check_id, workflow_id, run_id)
                   VALUES ($1, $2, $3) ON CONFLICT (check_id) DO NOTHING""",
                check.check_id,
                info.workflow_id,
                info.workflow_run_id,
            )
            row = await conn.fetchrow(
                "SELECT check_id, workflow_id, run_id, recorded_at FROM stack_checks"
                " WHERE check_id = $1",
                check.check_id,
            )
        assert row is not None  # inserted or already there, within this connection
        activity.logger.info("stack check recorded")
        return StackCheckRecorded.model_validate(dict(row))
