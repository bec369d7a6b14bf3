"""The live summary `make run` shows: cases by stage and bucket, contact attempts by
channel and the amount recovered, read from the PostgreSQL read models; plus a demo
payments feed so a newcomer sees cures and recoveries happen."""

from __future__ import annotations

import asyncio
import contextlib
import random
import uuid
from dataclasses import dataclass
from decimal import Decimal

import asyncpg
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from temporalio.client import Client

from arrears.serve.demo_desk import PROMISED
from domain.policy import STAGES
from workflows.case import CaseWorkflow
from workflows.case_io import PaymentSignal

BUCKETS = ("M0", "M1", "M2", "M3", "M4+")


@dataclass
class Snapshot:
    by_stage_bucket: dict[tuple[str, str], int]
    closed: dict[str, int]
    attempts: dict[str, int]
    recovered: Decimal

    def stages_in_use(self) -> int:
        return len({stage for stage, _ in self.by_stage_bucket})

    def line(self) -> str:
        stages: dict[str, int] = {}
        for (stage, _), n in self.by_stage_bucket.items():
            stages[stage] = stages.get(stage, 0) + n
        parts = [
            "open " + " ".join(f"{s}={stages[s]}" for s in STAGES if s in stages),
            "closed " + " ".join(f"{k}={v}" for k, v in sorted(self.closed.items())),
            "attempts " + " ".join(f"{k}={v}" for k, v in sorted(self.attempts.items())),
            f"recovered {self.recovered:.2f}",
        ]
        return "Summary: " + " | ".join(parts)


async def snapshot(pool: asyncpg.Pool) -> Snapshot:
    open_cases = await pool.fetch(
        "SELECT stage, bucket, count(*) AS n FROM cases"
        " WHERE outcome IS NULL GROUP BY stage, bucket"
    )
    closed = await pool.fetch(
        "SELECT outcome, count(*) AS n FROM cases WHERE outcome IS NOT NULL GROUP BY outcome"
    )
    attempts = await pool.fetch(
        "SELECT channel, count(*) AS n FROM contact_attempts GROUP BY channel"
    )
    recovered = await pool.fetchval("SELECT coalesce(sum(amount - unapplied), 0) FROM payments")
    return Snapshot(
        by_stage_bucket={(r["stage"], r["bucket"]): r["n"] for r in open_cases},
        closed={r["outcome"]: r["n"] for r in closed},
        attempts={r["channel"]: r["n"] for r in attempts},
        recovered=Decimal(recovered),
    )


def render(snap: Snapshot) -> Group:
    cases = Table(title="Open cases by stage and bucket", show_lines=False)
    cases.add_column("stage")
    for bucket in BUCKETS:
        cases.add_column(bucket, justify="right")
    cases.add_column("total", justify="right")
    for stage in STAGES:
        counts = [snap.by_stage_bucket.get((stage, b), 0) for b in BUCKETS]
        if any(counts):
            cases.add_row(stage, *[str(c or "") for c in counts], str(sum(counts)))
    other = Table(title="Activity")
    other.add_column("what")
    other.add_column("count", justify="right")
    for channel, n in sorted(snap.attempts.items()):
        other.add_row(f"{channel} attempts", str(n))
    for outcome, n in sorted(snap.closed.items()):
        other.add_row(f"closed {outcome}", str(n))
    other.add_row("recovered", f"{snap.recovered:,.2f}")
    return Group(cases, other)


async def show(
    pool: asyncpg.Pool, stop: asyncio.Event, console: Console, every: float = 2.0
) -> None:
    """Refresh the summary until `stop`: a live table on a terminal, a line otherwise."""
    if console.is_terminal:
        with Live(render(await snapshot(pool)), console=console, refresh_per_second=2) as live:
            while not stop.is_set():
                live.update(render(await snapshot(pool)))
                await _pause(stop, every)
        return
    while not stop.is_set():
        print((await snapshot(pool)).line(), flush=True)
        await _pause(stop, every * 5)


async def demo_payments(
    client: Client, pool: asyncpg.Pool, stop: asyncio.Event, seed: int = 7
) -> None:
    """A stand-in payments feed: now and then a few debtors pay part of their balance,
    and some who promised (the demo desk's promises) pay what they promised."""
    rng = random.Random(seed)
    while not stop.is_set():
        await _pause(stop, 5.0)
        rows = await pool.fetch(
            "SELECT case_id, balance FROM cases WHERE outcome IS NULL ORDER BY random() LIMIT 3"
        )
        for row in rows:
            if rng.random() < 0.5:
                continue
            share = Decimal(rng.choice([10, 25, 50, 100])) / 100
            await _pay(client, row["case_id"], (Decimal(row["balance"]) * share))
        for row in await pool.fetch(PROMISED, 1):
            if rng.random() < 0.6:  # the rest are left to break
                await _pay(client, row["case_id"], Decimal(row["promise_amount"]))


async def _pay(client: Client, case_id: str, amount: Decimal) -> None:
    amount = amount.quantize(Decimal("0.01"))
    if amount <= 0:
        return
    handle = client.get_workflow_handle_for(CaseWorkflow.run, case_id)
    try:
        await handle.signal(
            CaseWorkflow.payment,
            PaymentSignal(reference=f"DEMO-{uuid.uuid4().hex[:10]}", amount=amount),
        )
    except Exception:  # a case that just closed: the feed moves on
        return


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
