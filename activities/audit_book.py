"""The activities of the `AuditBook` workflow (`arrears audit --on-workers`): list the
cases of an audit into PostgreSQL, then audit them a batch at a time on whichever worker
takes the task, with the very per-case audit the CLI runs (`arrears.audit.runner`).

Both are idempotent: a retried listing adds nothing twice, a retried batch writes the
same rows again.
"""

from __future__ import annotations

from datetime import timedelta

import asyncpg
from pydantic import BaseModel
from temporalio import activity
from temporalio.client import Client

from arrears.audit.runner import AuditOptions, Auditor

#: Case ids sent to PostgreSQL at a time while listing.
_PAGE = 1000


class ListCases(BaseModel):
    audit_id: str
    query: str = ""
    case_ids: list[str] = []  # named cases; else every case the query matches


class Listed(BaseModel):
    cases: int


class AuditBatch(BaseModel):
    audit_id: str
    offset: int
    limit: int
    stuck_after_seconds: float


class BatchTally(BaseModel):
    verified: int = 0
    in_flight: int = 0
    problems: int = 0


class AuditBookActivities:
    def __init__(self, client: Client, pool: asyncpg.Pool) -> None:
        self._client = client
        self._pool = pool

    @activity.defn(name="list_audit_cases")
    async def list_audit_cases(self, request: ListCases) -> Listed:
        """The audit's cases, kept in `audit_results` (in pages: a book may be millions)."""
        from arrears.audit.runner import case_ids

        ids = request.case_ids or await case_ids(self._client, request.query, self._pool)
        for start in range(0, len(ids), _PAGE):
            await self._pool.execute(
                "INSERT INTO audit_results (audit_id, case_id)"
                " SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING",
                request.audit_id,
                ids[start : start + _PAGE],
            )
            activity.heartbeat(start)
        count = await self._pool.fetchval(
            "SELECT count(*) FROM audit_results WHERE audit_id = $1", request.audit_id
        )
        return Listed(cases=count)

    @activity.defn(name="audit_cases")
    async def audit_cases(self, batch: AuditBatch) -> BatchTally:
        """Audit one batch of the listed cases (in case-id order) and store each result."""
        rows = await self._pool.fetch(
            "SELECT case_id FROM audit_results WHERE audit_id = $1"
            " ORDER BY case_id OFFSET $2 LIMIT $3",
            batch.audit_id, batch.offset, batch.limit,
        )  # fmt: skip
        options = AuditOptions(stuck_after=timedelta(seconds=batch.stuck_after_seconds))
        auditor = Auditor(self._client, self._pool, options)
        tally = BatchTally()
        for row in rows:
            report = await auditor.audit(row["case_id"])
            await self._pool.execute(
                "UPDATE audit_results SET verdict = $3, findings = $4, audited_at = now()"
                " WHERE audit_id = $1 AND case_id = $2",
                batch.audit_id, report.case_id, report.verdict,
                [f.model_dump(mode="json") for f in report.findings],
            )  # fmt: skip
            setattr(tally, report.verdict, getattr(tally, report.verdict) + 1)
            activity.heartbeat(report.case_id)
        return tally
