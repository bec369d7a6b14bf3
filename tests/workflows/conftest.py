"""The time-skipping Temporal test server (one per session) and a case worker per test,
on a fresh task queue, with the in-memory event store and a scripted contact provider."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
from temporalio.client import WorkflowHandle
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.contact import ScriptedProvider
from arrears.intake.csv_forms import placement_row
from arrears.simulate.on_temporal import start_test_server
from arrears.store.events import InMemoryEventStore, event_from_payload
from arrears.workers import case_activities
from domain.events import Event
from domain.intake import open_case
from domain.localtime import start_of_day
from domain.placement import PlacementRow
from domain.policy import Policy
from domain.simulation import ContactOutcomes
from workflows.case import CaseWorkflow
from workflows.case_io import BusinessClock, CaseInput, CaseResult

POLICY = Policy()


@pytest.fixture(scope="session")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    environment = await start_test_server()
    async with environment:
        yield environment


def row(**overrides: object) -> PlacementRow:
    """A placement row opening in M0 on 2026-03-02 (due date 2026-02-28 missed)."""
    values: dict[str, object] = {
        "account_id": f"WF-{uuid.uuid4().hex[:10]}",
        "debtor_name": "测试",
        "mobile": "+8613900000001",
        "home_address": "上海市浦东新区1号",
        "credit_limit": "20000.00",
        "principal": "9000.00",
        "interest": "200.00",
        "fees": "40.00",
        "statement_day": 10,
        "oldest_unpaid_due_date": "2026-02-28",
        "unpaid_minimum": "900.00",
    }
    values.update(overrides)
    return placement_row(values)


@dataclass
class CaseHarness:
    env: WorkflowEnvironment
    store: InMemoryEventStore
    task_queue: str
    provider: ScriptedProvider
    started: list[WorkflowHandle[CaseWorkflow, CaseResult]] = field(default_factory=list)
    worker: Worker | None = None

    async def start_worker(self, *, cache: bool = True) -> None:
        """`cache=False`: no sticky task queue, so a worker started after this one stops
        picks the case up at once (the test server does not hand a sticky queue's tasks
        on to another worker)."""
        assert self.worker is None
        self.worker = Worker(
            self.env.client,
            task_queue=self.task_queue,
            workflows=[CaseWorkflow],
            activities=case_activities(self.store, self.provider),
            max_cached_workflows=100 if cache else 0,
        )
        await self.worker.__aenter__()

    async def stop_worker(self) -> None:
        """No worker until `start_worker`: messages sent meanwhile wait in the server and
        reach the case together, in one workflow task."""
        if self.worker is not None:
            worker, self.worker = self.worker, None
            await worker.__aexit__(None, None, None)

    async def start(
        self, placement: PlacementRow, start: date = date(2026, 3, 2), **input_fields: object
    ) -> WorkflowHandle[CaseWorkflow, CaseResult]:
        case_input = CaseInput(
            case_id=placement.case_id,
            policy=POLICY,
            clock=BusinessClock(origin=start_of_day(start, POLICY.cycle.bank_timezone)),
            open=open_case(placement),
            search_attributes=False,
            **input_fields,  # type: ignore[arg-type]
        )
        handle = await self.env.client.start_workflow(
            CaseWorkflow.run, case_input, id=placement.case_id + "-" + uuid.uuid4().hex[:6],
            task_queue=self.task_queue,
        )  # fmt: skip
        self.started.append(handle)
        return handle

    async def terminate_open_cases(self) -> None:
        """An open case left running without its worker would stop the test server from
        skipping time for the tests after it."""
        for handle in self.started:
            with contextlib.suppress(RPCError):
                await handle.terminate("test finished")

    def events(self, case_id: str) -> list[Event]:
        return [event_from_payload(p) for p, _ in self.store.rows.get(case_id, [])]

    def types(self, case_id: str) -> list[str]:
        return [e.type for e in self.events(case_id)]

    async def sleep_days(self, days: float) -> None:
        await self.env.sleep(timedelta(days=days))


@pytest.fixture
async def cases(env: WorkflowEnvironment) -> AsyncIterator[CaseHarness]:
    store = InMemoryEventStore()
    provider = ScriptedProvider(
        ContactOutcomes(default="no_answer", by_channel={"sms": "delivered"})
    )
    harness = CaseHarness(env, store, f"cases-{uuid.uuid4().hex[:8]}", provider)
    await harness.start_worker()
    try:
        yield harness
        await harness.terminate_open_cases()
    finally:
        await harness.stop_worker()
