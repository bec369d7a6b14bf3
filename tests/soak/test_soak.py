"""The fault suite: a book of cases on a fast business clock, on the real stack (`arrears
up` with its embedded PostgreSQL and Temporal dev server, `arrears worker` processes),
through every fault of issue 12 in order, then checked with the workers stopped.

Two sizes from this one test: the short one runs in `make test`; `make soak` sets
ARREARS_SOAK=full (a few hundred cases, about 10 minutes) and ARREARS_SOAK_REPORT to a
file that receives the run's figures (docs/RELIABILITY.md records the last ones).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from temporalio.client import Client

from arrears.intake.sample import write_sample
from arrears.people.users import add_user
from arrears.settings import Settings
from arrears.stack.temporal import connect
from tests.integration.conftest import ArrearsProcess, StackEnv, run_arrears, start_arrears
from tests.soak.faults import (
    Book,
    Workers,
    db_now,
    freeze_postgres,
    poll,
    recovery,
    restart_postgres,
    restart_temporal,
)
from workflows.case_io import CaseView

pytestmark = [pytest.mark.integration, pytest.mark.soak]


@dataclass(frozen=True)
class Size:
    cases: int
    day_seconds: float  # one business day of the book, in real seconds
    freeze_seconds: float
    worker_kills: int
    payers: int  # cases paid: half with a curing payment plus 10.00, half with 12.34
    steady_seconds: float  # the book runs undisturbed this long after each recovery


SIZES = {
    "short": Size(
        cases=30, day_seconds=1.0, freeze_seconds=10, worker_kills=1, payers=6, steady_seconds=0
    ),
    "full": Size(
        cases=300, day_seconds=10.0, freeze_seconds=45, worker_kills=3, payers=40, steady_seconds=25
    ),
}


def _size() -> Size:
    name = os.environ.get("ARREARS_SOAK", "short")
    assert name in SIZES, f"ARREARS_SOAK must be one of {sorted(SIZES)}, not {name!r}"
    return SIZES[name]


class Soak:
    """The running stack, the book's accounts, and the figures of the run."""

    def __init__(
        self, size: Size, env: dict[str, str], settings: Settings, book: Book, workers: Workers
    ) -> None:
        self.size = size
        self.workers = workers
        self.failed_attempts = 0
        self.env = env
        self.settings = settings
        self.book = book
        self.moving = max(3, size.cases // 5)  # cases that must move for "recovered"
        self.figures: dict[str, Any] = {"cases": size.cases, "faults": []}
        self.started = time.monotonic()

    async def fault(self, name: str, done_at: float, **observed: Any) -> None:
        """A fault has ended at `done_at` (monotonic): wait for the book to move again,
        record how long that took and how many activity attempts the workers saw fail
        since the last fault, then let the book run undisturbed for a while (a load
        period of the full size, not a synchronisation)."""
        since = await db_now(self.book)
        await recovery(self.book, since, self.moving)
        took = time.monotonic() - done_at
        failed = self.workers.log_lines("Completing activity as failed")
        entry = {
            "fault": name,
            "recovery_seconds": round(took, 1),
            "failed_activity_attempts": failed - self.failed_attempts,
        }
        self.failed_attempts = failed
        self.figures["faults"].append(entry | observed)
        await asyncio.sleep(self.size.steady_seconds)

    async def arrears(self, *args: str, timeout: float = 300) -> tuple[int, str, str]:
        return await run_arrears(*args, env=self.env, timeout=timeout)


async def _start_up(stack_env: StackEnv, env: dict[str, str]) -> tuple[ArrearsProcess, str]:
    up = await start_arrears("up", env=env)
    pg_url = (await up.wait_for_line(r"^PostgreSQL: (\S+)")).group(1)
    await up.wait_for_line(r"^Ready\.")
    return up, pg_url


async def _import_book(soak: Soak, tmp_path: Path) -> list[str]:
    """The sample book imported on the fast clock; the account ids, in file order."""
    placement = write_sample(
        tmp_path / "book.csv", soak.size.cases, seed=12, as_of=datetime.now(UTC).date()
    )
    code, out, err = await soak.arrears(
        "import", str(placement), "--day-seconds", str(soak.size.day_seconds)
    )
    summary = json.loads(out.strip().splitlines()[-1])
    assert code in (0, 1) and summary["started"] + summary["rejected"] == soak.size.cases, err
    rows = await soak.book.fetch("SELECT account_id FROM placement_records ORDER BY source_line")
    return [r["account_id"] for r in rows]


async def _payments_file(
    client: Client, accounts: list[str], tmp_path: Path
) -> tuple[Path, dict[tuple[str, str], Decimal]]:
    """A payments file: for half the payers the amount due now (curing the case) and
    10.00 more in the same file, for the other half 12.34. Returns the file and
    {(case id, reference): amount} of every row."""
    posted: dict[tuple[str, str], Decimal] = {}
    lines = ["account_id,amount,date,reference"]
    today = datetime.now(UTC).date().isoformat()
    run = uuid.uuid4().hex[:6]
    for n, account in enumerate(accounts):
        case_id = f"case-{account}"
        if n % 2 == 0:
            view: CaseView = await client.get_workflow_handle(case_id).query(
                "state", result_type=CaseView
            )
            due = view.state.minimum_due_total
            amounts = {f"CURE-{run}-{n}": due, f"MORE-{run}-{n}": Decimal("10.00")}
        else:
            amounts = {f"PART-{run}-{n}": Decimal("12.34")}
        for reference, amount in amounts.items():
            lines.append(f"{account},{amount},{today},{reference}")
            posted[(case_id, reference)] = amount
    path = tmp_path / "payments.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, posted


async def _post_payments_twice(
    soak: Soak, client: Client, accounts: list[str], tmp_path: Path
) -> dict[tuple[str, str], Decimal]:
    """The same payments file posted twice: the second time once the first is recorded,
    so that the cases it cured have ended and its payments reach them as repeats."""
    path, posted = await _payments_file(client, accounts, tmp_path)

    async def all_recorded() -> bool:
        stored = await soak.book.value(
            "SELECT count(*) FROM payments WHERE (case_id, reference) IN"
            " (SELECT * FROM unnest($1::text[], $2::text[]))",
            [c for c, _ in posted],
            [r for _, r in posted],
        )
        return bool(stored == len(posted))

    summaries, recorded_after = [], []
    for _ in range(2):
        code, out, err = await soak.arrears("payments", str(path))
        assert code == 0, out + err
        summaries.append(json.loads(out.strip().splitlines()[-1]))
        done_at = time.monotonic()
        took = await poll(all_recorded, "every posted payment recorded", 240)
        recorded_after.append(round(took, 1))
    cured = await soak.book.value("SELECT count(*) FROM cases WHERE outcome = 'cured'")
    await soak.fault(
        "payments_file_posted_twice",
        done_at,
        rows=len(posted),
        summaries=summaries,
        recorded_seconds=recorded_after,
        cured_cases=cured,
    )
    return posted


async def _send_override(soak: Soak, sent: tuple[str, ...]) -> tuple[str, int]:
    """What an operator does: send, and on exit 3 (no answer within 30 s, as when the
    workers are behind after a fault) send again with the same id. Its stdout, and how
    many sendings went unanswered."""
    unanswered = 0
    while True:
        code, out, err = await soak.arrears(*sent)
        if code != 3 or unanswered >= 5:
            assert code == 0, f"exit {code}: {out}{err}"
            return out, unanswered
        unanswered += 1


async def _override_twice(soak: Soak, case_id: str) -> dict[str, Any]:
    """One waiver sent twice with one id: the second answers the first's events. Its
    actor, `s-soak`, is a supervisor added as a user first (`--actor` must be one)."""
    conn = await asyncpg.connect(soak.book.url, timeout=10)
    try:
        await add_user(conn, "s-soak", "supervisor", None, "soak supervisor pw", datetime.now(UTC))
    finally:
        await conn.close()
    request = f"soak-{uuid.uuid4().hex}"
    sent = (
        "override", case_id, "waiver", "--amount", "1.00", "--actor", "s-soak",
        "--role", "supervisor", "--reason", "soak: one waiver sent twice", "--id", request,
    )  # fmt: skip
    started = time.monotonic()
    first, unanswered = await _send_override(soak, sent)
    answered_after = time.monotonic() - started
    second, unanswered_again = await _send_override(soak, sent)
    assert second == first, "the second sending did not answer the first's events"
    await soak.fault(
        "override_sent_twice",
        time.monotonic(),
        case_id=case_id,
        answered_seconds=round(answered_after, 1),
        unanswered_sendings=unanswered + unanswered_again,
    )
    return {"case_id": case_id, "id": request}


async def _run_faults(
    soak: Soak,
    up: ArrearsProcess,
    workers: Workers,
    client: Client,
    servers: list[Any],
    tmp_path: Path,
) -> tuple[list[str], dict[tuple[str, str], Decimal], dict[str, Any]]:
    """Every fault of the suite, in order, while the book runs. A server restarted
    alone is added to `servers` for the caller to stop."""
    accounts = await _import_book(soak, tmp_path)
    await soak.fault("book_imported", time.monotonic())
    size = soak.size

    frozen = await freeze_postgres(up, size.freeze_seconds)
    await soak.fault(
        "postgres_frozen", time.monotonic(), seconds=size.freeze_seconds, processes=frozen
    )

    servers.append(await restart_postgres(up, soak.settings))
    await soak.fault("postgres_restarted", time.monotonic())

    for n in range(size.worker_kills):
        await workers.kill_one()
        await workers.start()
        await soak.fault("worker_sigkilled", time.monotonic(), kill=n + 1)

    servers.append(await restart_temporal(up, soak.settings))
    await soak.fault("temporal_restarted", time.monotonic())

    payers = accounts[: size.payers]
    posted = await _post_payments_twice(soak, client, payers, tmp_path)
    override = await _override_twice(soak, f"case-{accounts[size.payers]}")

    for _ in range(2):
        await workers.start()
    await soak.fault("three_workers", time.monotonic())
    await workers.kill_one()
    await soak.fault("one_of_three_workers_sigkilled", time.monotonic())
    return accounts, posted, override


async def _no_failed_workflows(client: Client) -> dict[str, int]:
    counts = {}
    for status in ("Failed", "Terminated", "TimedOut"):
        found = await client.count_workflows(f'ExecutionStatus = "{status}"')
        counts[status] = found.count
    assert counts == {"Failed": 0, "Terminated": 0, "TimedOut": 0}
    return counts


async def _audit(soak: Soak) -> dict[str, int]:
    code, out, err = await soak.arrears("audit", "--all", "--format", "jsonl", timeout=900)
    verdicts = [json.loads(line) for line in out.splitlines() if line.strip()]
    problems = [v for v in verdicts if v["verdict"] == "problems"]
    assert code == 0 and not problems, f"audit exit {code}: {problems[:5]} {err[-2000:]}"
    tally: dict[str, int] = {}
    for verdict in verdicts:
        tally[verdict["verdict"]] = tally.get(verdict["verdict"], 0) + 1
    return tally


async def _check_store(soak: Soak, accounts: list[str]) -> None:
    """Nothing duplicated or lost in PostgreSQL: each case's events numbered 1..n with
    its projection at n, and contact attempts exactly the contact_attempted events."""
    book = soak.book
    cases = await book.value("SELECT count(*) FROM cases")
    assert cases == len(accounts), "a case of the book has no projection"
    gaps = await book.fetch(
        """SELECT e.case_id, count(*) AS n, max(e.seq) AS top, min(c.last_seq) AS projected
             FROM case_events e JOIN cases c USING (case_id)
            GROUP BY e.case_id
           HAVING min(e.seq) <> 1 OR max(e.seq) <> count(*) OR max(e.seq) <> min(c.last_seq)"""
    )
    assert gaps == [], f"events missing, or a projection behind: {gaps[:5]}"
    unmatched = await book.fetch(
        """SELECT coalesce(e.case_id, a.case_id) AS case_id, coalesce(e.seq, a.seq) AS seq
             FROM (SELECT case_id, seq FROM case_events WHERE type = 'contact_attempted') e
             FULL JOIN contact_attempts a USING (case_id, seq)
            WHERE e.case_id IS NULL OR a.case_id IS NULL"""
    )
    assert unmatched == [], f"contact attempts and their events disagree: {unmatched[:5]}"
    twice = await book.fetch(
        """SELECT case_id, channel, target, line, contact_index, planned_at, count(*)
             FROM contact_attempts
            GROUP BY case_id, channel, target, line, contact_index, planned_at
           HAVING count(*) > 1"""
    )
    assert twice == [], f"a planned contact attempted twice: {twice[:5]}"


async def _check_money_and_overrides(
    soak: Soak, posted: dict[tuple[str, str], Decimal], override: dict[str, Any]
) -> None:
    stored = {
        (r["case_id"], r["reference"]): r["amount"]
        for r in await soak.book.fetch("SELECT case_id, reference, amount FROM payments")
    }
    assert stored == posted, "payments recorded differ from the payments posted"
    events = await soak.book.value(
        "SELECT count(*) FROM case_events WHERE type = 'payment_received'"
    )
    assert events == len(posted), "payment_received events differ from the payments posted"
    overrides = await soak.book.fetch("SELECT case_id, kind FROM overrides")
    assert [tuple(r) for r in overrides] == [(override["case_id"], "waiver")]


async def test_the_book_survives_every_fault_with_nothing_lost_or_doubled(
    tmp_path: Path,
) -> None:
    size = _size()
    stack_env = StackEnv(home=tmp_path / "arrears-home")
    queue = f"soak-{uuid.uuid4().hex[:8]}"
    env = stack_env.as_env() | {"ARREARS_TASK_QUEUE": queue}
    settings = Settings(
        home=stack_env.home,
        temporal_port=stack_env.temporal_port,
        ui_port=stack_env.ui_port,
        pg_port=stack_env.pg_port,
        task_queue=queue,
    )
    up, pg_url = await _start_up(stack_env, env)
    workers = Workers(env, tmp_path)
    soak = Soak(size, env, settings, Book(pg_url), workers)
    servers: list[Any] = []
    try:
        await workers.start()
        client = await connect(settings)
        accounts, posted, override = await _run_faults(soak, up, workers, client, servers, tmp_path)
        await workers.stop_all()
        soak.figures["no_failed_workflows"] = await _no_failed_workflows(client)
        soak.figures["audit"] = await _audit(soak)
        await _check_store(soak, accounts)
        await _check_money_and_overrides(soak, posted, override)
        soak.figures["counts"] = await soak.book.counts()
        soak.figures["workers"] = {"started": workers.started, "sigkilled": workers.killed}
        soak.figures["seconds"] = round(time.monotonic() - soak.started)
        _report(soak.figures)
    finally:
        await workers.stop_all()
        for server in reversed(servers):
            await server.stop()
        if up.process.returncode is None:
            up.process.send_signal(signal.SIGINT)
            await up.process.wait()


def _report(figures: dict[str, Any]) -> None:
    text = json.dumps(figures, indent=2, default=str)
    print(text)
    if target := os.environ.get("ARREARS_SOAK_REPORT"):
        Path(target).write_text(text + "\n", encoding="utf-8")
