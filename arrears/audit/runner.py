"""Where the audit reads cases, and the one per-case audit every mode runs: in the CLI
process, in `--jobs` processes and in the activities of the `AuditBook` workflow.

`ServerSource.runs` is the only place that fetches a case's runs: from Temporal, and
from the archive (`arrears.store.archive`) when Temporal no longer has them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import asyncpg
from temporalio.client import Client, WorkflowHistory
from temporalio.service import RPCError, RPCStatusCode

from arrears.audit.case import CaseReport, audit_case
from arrears.audit.findings import STUCK_AFTER, Finding, Limits, PendingAppend
from arrears.store.archive import RunArchive, case_runs


class ServerSource:
    """A case's runs and running appends, as the Temporal server (and, with a pool, the
    archive) has them."""

    def __init__(self, client: Client, pool: asyncpg.Pool | None = None) -> None:
        self._client = client
        self._pool = pool
        #: What reading the archive found wrong, by case (an altered row, a lost run).
        self.archive_problems: dict[str, list[str]] = {}

    async def runs(self, case_id: str) -> list[WorkflowHistory]:
        """Every run of the case, oldest first (empty: neither place has any)."""
        found = await case_runs(self._client, self._pool, case_id)
        self.archive_problems[case_id] = found.problems
        return found.histories

    async def pending(self, case_id: str) -> dict[str, PendingAppend]:
        """The case's `append_events` activities still running, by activity id."""
        try:
            description = await self._client.get_workflow_handle(case_id).describe()
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                return {}
            raise
        return {
            p.activity_id: PendingAppend(
                attempt=p.attempt,
                last_failure=p.last_failure.message if p.HasField("last_failure") else None,
            )
            for p in description.raw_description.pending_activities
            if p.activity_type.name == "append_events"
        }


async def case_ids(client: Client, query: str, pool: asyncpg.Pool | None = None) -> list[str]:
    """The ids of every case workflow the visibility `query` matches; with no query
    (`--all`) and a pool, also every case whose runs are only in the archive any more (a
    visibility query cannot be run against the archive)."""
    seen: dict[str, None] = {}
    async for execution in client.list_workflows(
        f'WorkflowType = "Case" AND ({query})' if query else 'WorkflowType = "Case"'
    ):
        seen.setdefault(execution.id, None)
    if not query and pool is not None:
        seen.update(dict.fromkeys(await RunArchive(pool).workflow_ids()))
    return sorted(seen)


@dataclass(frozen=True)
class AuditOptions:
    """What every per-case audit of one `arrears audit` is asked for."""

    stuck_after: timedelta = STUCK_AFTER
    timelines: bool = False


class Auditor:
    """The per-case audit against a server and a database (one client, one pool)."""

    def __init__(self, client: Client, pool: asyncpg.Pool, options: AuditOptions) -> None:
        self._source = ServerSource(client, pool)
        self._pool = pool
        self._options = options

    async def audit(self, case_id: str) -> CaseReport:
        runs = await self._source.runs(case_id)
        limits = Limits.at_now(self._options.stuck_after)
        audit = await audit_case(case_id, runs, self._pool, self._source, limits)
        audit.findings[:0] = [
            Finding(kind="archive", detail=problem)
            for problem in self._source.archive_problems.pop(case_id, [])
        ]
        return audit.report(self._options.timelines)

    async def audit_all(self, ids: list[str]) -> list[CaseReport]:
        return [await self.audit(case_id) for case_id in ids]
