"""`arrears audit` on a live book: an append still running is in flight, not a loss; a
deleted or altered `case_events` row is a problem; every mode of a book audit (one
process, `--jobs 2`, `--on-workers`, `--format jsonl`) gives the same verdicts.

One stack (`arrears up` and one `arrears worker`) serves the module.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import pytest
from temporalio.worker import Worker

from activities.contact import SimulatedProvider
from activities.event_store import Appended, CaseSummary, EventStore
from arrears.db import create_pool
from arrears.sample import sample_rows
from domain.events import Event
from domain.intake import open_case
from domain.localtime import zone
from domain.placement import PlacementRow
from domain.policy import Policy
from tests.integration.conftest import Stack
from worker import case_activities
from workflows.case import CaseWorkflow
from workflows.case_io import BusinessClock, CaseInput

pytestmark = pytest.mark.integration

ORIGIN = datetime(2026, 3, 2, 10, 0, tzinfo=zone("Asia/Shanghai"))
RUN = uuid.uuid4().hex[:6].upper()


def case_input(row: PlacementRow, day_seconds: float, days: int | None = None) -> CaseInput:
    return CaseInput(
        case_id=row.case_id,
        policy=Policy(),
        clock=BusinessClock(origin=ORIGIN, day_seconds=day_seconds),
        open=open_case(row),
        until=ORIGIN + timedelta(days=days) if days else None,
    )


def rows(count: int, prefix: str) -> list[PlacementRow]:
    made = sample_rows(count, seed=12, as_of=ORIGIN.date())
    return [
        PlacementRow.model_validate(r | {"account_id": f"{prefix}{RUN}-{n}"})
        for n, r in enumerate(made)
    ]


def by_case(jsonl: str) -> dict[str, dict[str, Any]]:
    return {c["case_id"]: c for c in map(json.loads, jsonl.splitlines())}


# --- an append in flight while the worker is stopped --------------------------------------


class HeldStore:
    """The real event store, except that append number `hold` never finishes: it is still
    running when the worker stops, as it would be if the worker died or was shut down."""

    def __init__(self, store: EventStore, hold: int) -> None:
        self._store = store
        self._hold = hold
        self._calls = 0
        self.holding = asyncio.Event()

    async def append(
        self, case_id: str, events: list[Event], summary: CaseSummary | None = None
    ) -> Appended:
        self._calls += 1
        if self._calls == self._hold:
            self.holding.set()
            await asyncio.Event().wait()  # until the worker's shutdown cancels it
        return await self._store.append(case_id, events, summary)


async def test_an_append_running_when_the_worker_stopped_is_in_flight_and_the_audit_exits_0(
    stack: Stack,
) -> None:
    (row,) = rows(1, "FLY")
    queue = f"audit-flight-{uuid.uuid4().hex[:6]}"
    pool = await create_pool(stack.pg_url, max_size=2)
    try:
        store = HeldStore(EventStore(pool), hold=2)
        async with Worker(
            stack.client,
            task_queue=queue,
            workflows=[CaseWorkflow],
            activities=case_activities(store, SimulatedProvider()),
        ):
            await stack.client.start_workflow(
                CaseWorkflow.run, case_input(row, 3600.0), id=row.case_id, task_queue=queue
            )
            await asyncio.wait_for(store.holding.wait(), 60)
        stored = await pool.fetchval(
            "SELECT max(seq) FROM case_events WHERE case_id = $1", row.case_id
        )
    finally:
        await pool.close()

    code, out, err = await stack.arrears("audit", row.case_id, "--format", "json")

    assert code == 0, out + err
    (case,) = json.loads(out)
    assert case["verdict"] == "in_flight" and case["problems"] == []
    assert case["in_flight"] and case["in_flight"][0]["seq"] == stored + 1
    assert all(0 <= f["age_seconds"] < 120 for f in case["in_flight"])

    # The same append, once it has waited longer than the operator allows, is stuck.
    code, out, _ = await stack.arrears(
        "audit", row.case_id, "--format", "json", "--stuck-after", "0s"
    )
    assert code == 1
    assert {f["kind"] for f in json.loads(out)[0]["findings"]} == {"stuck"}
