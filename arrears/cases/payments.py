"""`arrears payments FILE`: post a payments feed to the cases, one `payment` signal a row
(the file is read by `arrears.intake.payments_file`).

Each good row is signalled to `case-<account_id>`; the workflow ignores a reference it has
seen, so posting a file twice pays nothing twice. Problems are reported one a line on
stdout, then the summary JSON as the last line:

    line 4: unknown_account: account ACC-000404: no such case
    line 5: rejected: amount: has a fraction of a cent (amounts are whole cents)
    {"posted": 2, "unknown_account": 1, "rejected": 1}

`posted` counts the signals Temporal accepted (a repeated reference is posted and then
ignored by its case); `unknown_account` counts rows whose account never had a case;
`rejected` counts rows that are not a payment. Exit code 1 if any row was unknown or
rejected, 0 otherwise; 2 for a file that cannot be read as a payments file (nothing
posted).

Money received is never turned away: a payment to a case that has ended (its workflow
closed, or gone from Temporal after the retention) is sent with signal-with-start to a
short run of the same workflow id (`CaseInput.after_close`), which rebuilds the case
from the event store and records the payment on it as unapplied credit, under the
profile of the case's arm (the run is given both arms and follows the one the case's
events name). Such rows are
posted, counted again in `to_ended_cases` and named on a line of their own. Whether a
case ever existed is asked of PostgreSQL's `cases` table, only when Temporal has no
running workflow for it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.service import RPCError

from arrears.cases.client import RPC_TIMEOUT, is_not_found, temporal_errors
from arrears.intake.payments_file import Payment, Problem, read_payments
from arrears.policies import Arms
from arrears.settings import Settings
from arrears.store.db import create_pool
from workflows.case_io import CaseInput

#: Accounts posted at once; one account's payments are posted in file order.
CONCURRENCY = 32


@dataclass
class Summary:
    posted: int = 0
    unknown_account: int = 0
    rejected: int = 0
    to_ended_cases: int = 0

    def contract(self) -> dict[str, int]:
        return {
            "posted": self.posted,
            "unknown_account": self.unknown_account,
            "rejected": self.rejected,
            "to_ended_cases": self.to_ended_cases,
        }


class CaseRecords:
    """What PostgreSQL knows of the cases (the pool is opened on first need): each
    account's latest delinquency episode, whether a case not running in Temporal ever
    existed, and the after-close run that takes a payment to an ended case."""

    def __init__(self, client: Client, db_url: str, arms: Arms, task_queue: str) -> None:
        self._client = client
        self._db_url = db_url
        self._arms = arms
        self._task_queue = task_queue
        self._pool: asyncpg.Pool | None = None
        self._lock = asyncio.Lock()

    async def _db(self) -> asyncpg.Pool:
        async with self._lock:
            if self._pool is None:
                self._pool = await create_pool(self._db_url, max_size=4)
        return self._pool

    async def latest(self, account_ids: list[str]) -> dict[str, str]:
        """{account id: the case of its latest episode} for the accounts imported (a case
        started without a placement record is `case-<account_id>`, as before)."""
        rows = await (await self._db()).fetch(
            "SELECT DISTINCT ON (account_id) account_id, case_id FROM placement_records"
            " WHERE account_id = ANY($1::text[]) ORDER BY account_id, episode DESC",
            account_ids,
        )
        return {r["account_id"]: r["case_id"] for r in rows}

    async def outcome(self, case_id: str) -> str | None:
        """How the case ended ("open" if its record says it has not), None: never placed."""
        found = await (await self._db()).fetchrow(
            "SELECT outcome FROM cases WHERE case_id = $1", case_id
        )
        return None if found is None else found["outcome"] or "open"

    async def post(self, payment: Payment) -> None:
        """Signal-with-start: joins an after-close run already going, else starts one."""
        await self._client.start_workflow(
            "Case",
            CaseInput(
                case_id=payment.case_id,
                policy=self._arms.champion,
                other_arm=self._arms.challenger,
                after_close=True,
            ),
            id=payment.case_id,
            task_queue=self._task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
            start_signal="payment",
            start_signal_args=[payment.signal],
            rpc_timeout=RPC_TIMEOUT,
        )

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()


async def _post_account(
    client: Client, payments: list[Payment], records: CaseRecords | None
) -> list[Problem]:
    """Post one account's payments in file order. When its case is not running, they go
    to the ended case (unapplied credit), or, if it never existed, are unknown."""
    handle = client.get_workflow_handle(payments[0].case_id)
    for n, payment in enumerate(payments):
        with temporal_errors():
            try:
                await handle.signal("payment", payment.signal, rpc_timeout=RPC_TIMEOUT)
            except RPCError as err:
                if not is_not_found(err):
                    raise
                return await _to_ended_case(payments[n:], records)
    return []


async def _to_ended_case(payments: list[Payment], records: CaseRecords | None) -> list[Problem]:
    outcome = await records.outcome(payments[0].case_id) if records is not None else None
    if records is None or outcome is None:
        return [
            Problem(p.line, "unknown_account", f"account {p.account_id}: no such case")
            for p in payments
        ]
    notes = []
    for payment in payments:
        with temporal_errors():
            await records.post(payment)
        notes.append(
            Problem(
                payment.line,
                "to_ended_case",
                f"account {payment.account_id}: the case has ended ({outcome}); the payment "
                "is recorded on it as unapplied credit",
            )
        )
    return notes


async def post_payments(
    client: Client,
    rows: Iterator[Payment | Problem],
    concurrency: int = CONCURRENCY,
    records: CaseRecords | None = None,
) -> tuple[Summary, list[Problem]]:
    summary = Summary()
    problems: list[Problem] = []
    by_case: dict[str, list[Payment]] = {}
    for row in rows:
        if isinstance(row, Problem):
            problems.append(row)
        else:
            by_case.setdefault(row.case_id, []).append(row)
    if records is not None and by_case:
        # A payment is for the account's latest delinquency episode (a re-defaulted
        # account has `case-<account_id>.<n>`).
        latest = await records.latest([p[0].account_id for p in by_case.values()])
        regrouped: dict[str, list[Payment]] = {}
        for payments in by_case.values():
            case_id = latest.get(payments[0].account_id, payments[0].case_id)
            regrouped[case_id] = [dataclasses.replace(p, case_id=case_id) for p in payments]
        by_case = regrouped
    gate = asyncio.Semaphore(concurrency)

    async def post(payments: list[Payment]) -> list[Problem]:
        async with gate:
            return await _post_account(client, payments, records)

    for found in await asyncio.gather(*(post(p) for p in by_case.values())):
        problems += found
    problems.sort(key=lambda p: p.line)
    summary.rejected = sum(1 for p in problems if p.kind == "rejected")
    summary.unknown_account = sum(1 for p in problems if p.kind == "unknown_account")
    summary.to_ended_cases = sum(1 for p in problems if p.kind == "to_ended_case")
    summary.posted = sum(len(p) for p in by_case.values()) - summary.unknown_account
    return summary, problems


async def _run(path: Path) -> tuple[Summary, list[Problem]]:
    from arrears.policies import load_arms
    from arrears.stack.temporal import connect

    rows = read_payments(path)
    first = next(rows, None)  # a file that is not a payments file stops here (exit 2)
    settings = Settings()
    client = await connect(settings)
    records = CaseRecords(client, settings.db_url, load_arms(settings.policy), settings.task_queue)

    def all_rows() -> Iterator[Payment | Problem]:
        if first is not None:
            yield first
        yield from rows

    try:
        return await post_payments(client, all_rows(), records=records)
    finally:
        await records.close()


def run_payments(path: Path) -> tuple[list[str], int]:
    """The lines to print (problems, then the summary JSON) and the exit code."""
    summary, problems = asyncio.run(_run(path))
    lines = [str(p) for p in problems]
    lines.append(json.dumps(summary.contract()))
    return lines, 1 if any(p.is_problem for p in problems) else 0
