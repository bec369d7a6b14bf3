"""The `AuditBook` workflow: `arrears audit --on-workers` for a book beyond one machine.

It lists the cases once (into PostgreSQL, so the history stays small whatever the book),
then runs the per-case audit as activities, a batch of cases each, a bounded number at a
time; the task queue spreads them over every worker polling it. Each result is stored
in `audit_results`; the workflow returns the counts.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from pydantic import BaseModel
from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.audit_book import (
        AuditBatch,
        AuditBookActivities,
        BatchTally,
        ListCases,
    )

#: Batches per audit at most: the history stays well under Temporal's 50,000 events
#: (about three per batch); a larger book gets larger batches.
MAX_BATCHES = 10_000
RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1))


class AuditBookInput(BaseModel):
    audit_id: str
    query: str = ""
    case_ids: list[str] = []
    stuck_after_seconds: float = 900.0
    batch_size: int = 20  # cases per activity: ~10 s of replay for one-year cases
    concurrency: int = 16  # batches in flight: enough for a few workers' slots


class AuditBookResult(BaseModel):
    audit_id: str
    cases: int
    verified: int
    in_flight: int
    problems: int


@workflow.defn(name="AuditBook")
class AuditBookWorkflow:
    @workflow.run
    async def run(self, input: AuditBookInput) -> AuditBookResult:
        listed = await workflow.execute_activity_method(
            AuditBookActivities.list_audit_cases,
            ListCases(audit_id=input.audit_id, query=input.query, case_ids=input.case_ids),
            start_to_close_timeout=timedelta(minutes=30),
            heartbeat_timeout=timedelta(minutes=2),
            retry_policy=RETRY,
        )
        slots = asyncio.Semaphore(input.concurrency)
        size = max(input.batch_size, -(-listed.cases // MAX_BATCHES))

        async def audit(offset: int) -> BatchTally:
            async with slots:
                return await workflow.execute_activity_method(
                    AuditBookActivities.audit_cases,
                    AuditBatch(
                        audit_id=input.audit_id,
                        offset=offset,
                        limit=size,
                        stuck_after_seconds=input.stuck_after_seconds,
                    ),
                    start_to_close_timeout=timedelta(minutes=30),
                    heartbeat_timeout=timedelta(minutes=2),
                    retry_policy=RETRY,
                )

        tallies = await asyncio.gather(*(audit(offset) for offset in range(0, listed.cases, size)))
        return AuditBookResult(
            audit_id=input.audit_id,
            cases=listed.cases,
            verified=sum(t.verified for t in tallies),
            in_flight=sum(t.in_flight for t in tallies),
            problems=sum(t.problems for t in tallies),
        )
