"""Fifty cases on the real stack (dev server + PostgreSQL from `arrears up`), with the
worker process killed mid-run: every case still progresses, and the event store holds
every event and contact attempt exactly once, with every hash chain intact."""

from __future__ import annotations

import asyncio
import signal
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from temporalio.client import Client

from arrears.intake.csv_forms import placement_row
from arrears.intake.sample import sample_rows
from arrears.settings import Settings
from arrears.stack.temporal import connect
from arrears.store.db import create_pool
from arrears.store.events import EventStore
from domain.intake import open_case
from domain.policy import Policy
from tests.integration.conftest import StackEnv
from workflows.case import CaseWorkflow
from workflows.case_io import BusinessClock, CaseInput
from workflows.case_views import BUCKET, DPD, STAGE

pytestmark = pytest.mark.integration

CASES = 50
DAY_SECONDS = 0.3  # one business day in 0.3 s: 35 days of collections in about 10 s
HORIZON_DAYS = 35


async def _wait_for(condition, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    """Poll a condition of the outside world (a database count) until it holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await condition():
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.2)


async def _start_cases(client: Client, settings: Settings) -> list[str]:
    today = datetime.now(UTC)
    policy = Policy()
    origin = today
    rows = [placement_row(r) for r in sample_rows(CASES, seed=11, as_of=today.date())]
    ids = []
    for placement in rows:
        case_input = CaseInput(
            case_id=placement.case_id,
            policy=policy,
            clock=BusinessClock(origin=origin, day_seconds=DAY_SECONDS),
            open=open_case(placement),
            until=origin + timedelta(days=HORIZON_DAYS),
        )
        await client.start_workflow(
            CaseWorkflow.run, case_input, id=placement.case_id, task_queue=settings.task_queue
        )
        ids.append(placement.case_id)
    return ids


async def test_fifty_cases_survive_a_killed_worker_with_every_event_stored_once(
    spawn, stack_env: StackEnv
) -> None:
    up = await spawn("up", env=stack_env.as_env())
    await up.wait_for_line(r"^Ready\.")
    pg_url = (await up.wait_for_line(r"^PostgreSQL: (\S+)")).group(1)
    queue = f"cases-{uuid.uuid4().hex[:8]}"
    env = stack_env.as_env() | {"ARREARS_TASK_QUEUE": queue}
    settings = Settings(
        temporal_port=stack_env.temporal_port, pg_port=stack_env.pg_port, task_queue=queue
    )
    first_worker = await spawn("worker", env=env)
    client = await connect(settings)
    case_ids = await _start_cases(client, settings)
    pool = await create_pool(pg_url, max_size=4)
    try:

        async def some_progress() -> bool:
            count = await pool.fetchval("SELECT count(*) FROM contact_attempts")
            return bool(count >= CASES)

        await _wait_for(some_progress, 120, "contact attempts before the kill")
        first_worker.process.send_signal(signal.SIGKILL)
        await first_worker.process.wait()
        await spawn("worker", env=env)

        results = await asyncio.gather(
            *(
                client.get_workflow_handle_for(CaseWorkflow.run, case_id).result()
                for case_id in case_ids
            )
        )
        store = EventStore(pool)
        for case_id, result in zip(case_ids, results, strict=True):
            seqs = [
                r["seq"]
                for r in await pool.fetch(
                    "SELECT seq FROM case_events WHERE case_id = $1 ORDER BY seq", case_id
                )
            ]
            assert seqs == list(range(1, result.last_seq + 1)), (
                f"{case_id}: events missing or extra"
            )
            assert await store.verify_chain(case_id) == []
            events = await store.events(case_id)
            attempts = await pool.fetchval(
                "SELECT count(*) FROM contact_attempts WHERE case_id = $1", case_id
            )
            assert attempts == sum(1 for e in events if e.type == "contact_attempted")
            # 35 business days hold a statement date of every account: each case progressed.
            assert "statement_issued" in [e.type for e in events], f"{case_id} did not progress"
            last = await pool.fetchrow(
                "SELECT last_seq, stage FROM cases WHERE case_id = $1", case_id
            )
            assert last["last_seq"] == result.last_seq
        for case_id in case_ids:
            row = await pool.fetchrow(
                "SELECT stage, bucket, dpd FROM cases WHERE case_id = $1", case_id
            )
            attributes = (
                await client.get_workflow_handle(case_id).describe()
            ).typed_search_attributes
            assert attributes.get(STAGE) == row["stage"] and attributes.get(BUCKET) == row["bucket"]
            assert attributes.get(DPD) == row["dpd"]
        with pytest.raises(asyncpg.exceptions.InsufficientPrivilegeError):
            await pool.execute("DELETE FROM case_events WHERE case_id = $1", case_ids[0])
    finally:
        await pool.close()
