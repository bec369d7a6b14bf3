"""`arrears status` without a case: the book in numbers, counted twice side by side.

Open cases by stage and by bucket, and closed cases by outcome, from Temporal's visibility
store (the search attributes of running cases) and from the `cases` projection in
PostgreSQL. The two are written at slightly different moments (the event store first,
then the search attributes), so a case that is moving can show in one column a moment
before the other; a difference that persists is a fault worth a look.
"""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
from rich.console import Group
from rich.table import Table
from temporalio.client import Client

from arrears.cases.client import RPC_TIMEOUT, temporal_errors
from domain.delinquency import bucket_label
from domain.policy import STAGES, Policy

OUTCOMES = ("cured", "settled", "closed", "written_off")
_CASES = 'WorkflowType = "Case"'
_RUNNING = f'{_CASES} AND ExecutionStatus = "Running"'
_COMPLETED = f'{_CASES} AND ExecutionStatus = "Completed"'


def bucket_labels(policy: Policy) -> list[str]:
    top = policy.delinquency.top_bucket
    return [bucket_label(n, top) for n in range(top + 1)]


async def _visibility_counts(
    client: Client, base: str, attribute: str, values: list[str]
) -> dict[str, int]:
    async def count(value: str) -> int:
        found = await client.count_workflows(
            f'{base} AND {attribute} = "{value}"', rpc_timeout=RPC_TIMEOUT
        )
        return found.count

    with temporal_errors():
        counts = await asyncio.gather(*(count(v) for v in values))
    return dict(zip(values, counts, strict=True))


async def _projection_counts(pool: asyncpg.Pool, column: str, where: str) -> dict[str, int]:
    assert column in ("stage", "bucket", "outcome")
    rows = await pool.fetch(
        f"SELECT {column} AS v, count(*) AS n FROM cases WHERE {where} GROUP BY 1"
    )
    return {r["v"]: r["n"] for r in rows}


def _side_by_side(
    order: list[str], temporal: dict[str, int], postgres: dict[str, int]
) -> dict[str, dict[str, int]]:
    names = order + sorted((set(temporal) | set(postgres)) - set(order))
    return {n: {"temporal": temporal.get(n, 0), "postgres": postgres.get(n, 0)} for n in names}


async def book_status(client: Client, pool: asyncpg.Pool, policy: Policy) -> dict[str, Any]:
    stages: list[str] = list(STAGES)
    buckets, outcomes = bucket_labels(policy), list(OUTCOMES)
    pg_stage = await _projection_counts(pool, "stage", "outcome IS NULL")
    pg_bucket = await _projection_counts(pool, "bucket", "outcome IS NULL")
    pg_outcome = await _projection_counts(pool, "outcome", "outcome IS NOT NULL")
    # Labels only PostgreSQL knows (another profile's buckets) are counted in Temporal too.
    buckets += sorted(set(pg_bucket) - set(buckets))
    t_stage = await _visibility_counts(client, _RUNNING, "ArrearsStage", stages)
    t_bucket = await _visibility_counts(client, _RUNNING, "ArrearsBucket", buckets)
    t_outcome = await _visibility_counts(client, _COMPLETED, "ArrearsOutcome", outcomes)
    with temporal_errors():
        running = (await client.count_workflows(_RUNNING, rpc_timeout=RPC_TIMEOUT)).count
    stopped = await _visibility_counts(client, _RUNNING, "ArrearsAttention", ["store_conflict"])
    by_stage = _side_by_side(stages, t_stage, pg_stage)
    by_bucket = _side_by_side(buckets, t_bucket, pg_bucket)
    by_outcome = _side_by_side(outcomes, t_outcome, pg_outcome)
    total = {"temporal": running, "postgres": sum(pg_stage.values())}
    # Closed cases are shown but not compared: Temporal forgets a closed workflow after the
    # namespace's retention period, the `cases` projection keeps it.
    consistent = all(
        row["temporal"] == row["postgres"]
        for table in (by_stage, by_bucket, {"total": total})
        for row in table.values()
    )
    return {
        "open": {"total": total, "by_stage": by_stage, "by_bucket": by_bucket},
        "closed": {"by_outcome": by_outcome},
        # Cases stopped on an event store conflict, waiting for a supervisor.
        "stopped_on_conflict": stopped["store_conflict"],
        "consistent": consistent,
    }


def render_book(data: dict[str, Any]) -> Group:
    def table(title: str, key: str, rows: dict[str, dict[str, int]]) -> Table:
        t = Table(title=title)
        t.add_column(key)
        t.add_column("Temporal", justify="right")
        t.add_column("PostgreSQL", justify="right")
        t.add_column("")
        for name, row in rows.items():
            differs = row["temporal"] != row["postgres"]
            t.add_row(
                name, str(row["temporal"]), str(row["postgres"]), "differs" if differs else ""
            )
        return t

    open_book = data["open"]
    closed = table("Closed cases by outcome", "outcome", data["closed"]["by_outcome"])
    closed.caption = "Temporal keeps closed cases only for the namespace's retention period."
    return Group(
        table(
            "Open cases by stage", "stage", {**open_book["by_stage"], "total": open_book["total"]}
        ),
        table("Open cases by bucket", "bucket", open_book["by_bucket"]),
        closed,
        *(
            [
                f"[red]{data['stopped_on_conflict']} case(s) stopped on an event store "
                "conflict[/]: `temporal workflow list --query 'ArrearsAttention = "
                '"store_conflict"\'`, then `arrears retry-append CASE`'
            ]
            if data["stopped_on_conflict"]
            else []
        ),
    )
