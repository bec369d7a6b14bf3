"""`arrears audit --on-workers`: start the `AuditBook` workflow on the task queue, wait
for it, and print what its activities stored in `audit_results` as any audit prints.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from temporalio.client import Client

from arrears.audit.case import CaseReport
from arrears.audit.findings import Finding
from arrears.audit.output import AuditPrinter
from arrears.errors import UsageError
from arrears.settings import Settings
from arrears.store.db import create_pool
from workflows.audit_book import AuditBookInput, AuditBookResult, AuditBookWorkflow

if TYPE_CHECKING:
    from arrears.audit.request import AuditRequest


async def audit_on_workers(
    client: Client,
    settings: Settings,
    request: AuditRequest,
    named: list[str],
    printer: AuditPrinter,
) -> AuditBookResult:
    """Every case of `named` (else of the request's query) audited on the workers; each
    result handed to `printer` in case-id order."""
    if request.timeline or request.jobs != 1:
        raise UsageError("--on-workers prints no timelines and takes no --jobs")
    audit_id = f"audit-{uuid.uuid4().hex[:12]}"
    result = await client.execute_workflow(
        AuditBookWorkflow.run,
        AuditBookInput(
            audit_id=audit_id,
            query=request.query or "",
            case_ids=named,
            stuck_after_seconds=request.stuck_after.total_seconds(),
        ),
        id=audit_id,
        task_queue=settings.task_queue,
    )
    pool = await create_pool(settings.db_url, max_size=1)
    try:
        async with pool.acquire() as conn, conn.transaction(readonly=True):
            async for row in conn.cursor(
                "SELECT case_id, verdict, findings FROM audit_results WHERE audit_id = $1"
                " ORDER BY case_id",
                audit_id,
            ):
                findings = [Finding.model_validate(f) for f in row["findings"]]
                printer.add(CaseReport(case_id=row["case_id"], verdict=row["verdict"],
                                       findings=findings))  # fmt: skip
    finally:
        await pool.close()
    return result
