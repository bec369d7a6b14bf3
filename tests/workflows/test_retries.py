"""Activities retry when a provider or the database is down, and record each attempt
once; a provider's permanent refusal is an outcome, not a retry loop."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.contact import ContactRequest, ContactResult, ProviderUnavailable, ScriptedProvider
from arrears.store.events import Appended, InMemoryEventStore, event_from_payload
from arrears.store.read_models import CaseSummary
from arrears.workers import case_activities
from domain.events import Event
from domain.intake import open_case
from domain.localtime import start_of_day
from domain.simulation import ContactOutcomes
from tests.workflows.conftest import POLICY, row
from workflows.case import CaseWorkflow
from workflows.case_io import BusinessClock, CaseInput


class FlakyProvider:
    """Down for the first two tries of every attempt, then answers."""

    def __init__(self, inner: ScriptedProvider) -> None:
        self.inner = inner
        self.tries: dict[str, int] = {}

    async def attempt(self, request: ContactRequest) -> ContactResult:
        self.tries[request.attempt_key] = self.tries.get(request.attempt_key, 0) + 1
        if self.tries[request.attempt_key] <= 2:
            raise ProviderUnavailable("gateway timeout")
        return await self.inner.attempt(request)


class FlakyStore(InMemoryEventStore):
    """Fails every other append before writing anything, like a dropped connection."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    async def append(
        self, case_id: str, events: list[Event], summary: CaseSummary | None = None
    ) -> Appended:
        self.calls += 1
        if self.calls % 2 == 1:
            raise ConnectionError("connection reset by peer")
        return await super().append(case_id, events, summary)


async def _run(
    env: WorkflowEnvironment, store: InMemoryEventStore, provider: object, days: int
) -> str:
    placement = row(mobile="+8613900000001", home_phone="021-55550000")
    origin = start_of_day(date(2026, 3, 2), POLICY.cycle.bank_timezone)
    queue = f"retry-{uuid.uuid4().hex[:6]}"
    case_input = CaseInput(
        case_id=placement.case_id, policy=POLICY, clock=BusinessClock(origin=origin),
        open=open_case(placement), until=origin + timedelta(days=days), search_attributes=False,
    )  # fmt: skip
    async with Worker(env.client, task_queue=queue, workflows=[CaseWorkflow],
                      activities=case_activities(store, provider)):  # type: ignore[arg-type]  # fmt: skip
        await env.client.execute_workflow(
            CaseWorkflow.run, case_input, id=placement.case_id, task_queue=queue
        )
    return placement.case_id


async def test_a_provider_that_is_down_is_retried_and_each_attempt_is_recorded_once(
    env: WorkflowEnvironment,
) -> None:
    provider = FlakyProvider(
        ScriptedProvider(ContactOutcomes(default="no_answer", by_channel={"sms": "delivered"}))
    )
    store = InMemoryEventStore()
    case_id = await _run(env, store, provider, days=12)
    events = [event_from_payload(p) for p, _ in store.rows[case_id]]
    attempts = [e for e in events if e.type == "contact_attempted"]
    assert attempts and all(provider.tries[f"{case_id}/{e.seq}"] == 3 for e in attempts)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))


async def test_a_database_that_drops_appends_loses_and_duplicates_nothing(
    env: WorkflowEnvironment,
) -> None:
    store = FlakyStore()
    provider = ScriptedProvider(
        ContactOutcomes(default="no_answer", by_channel={"sms": "delivered"})
    )
    case_id = await _run(env, store, provider, days=12)
    events = [event_from_payload(p) for p, _ in store.rows[case_id]]
    assert store.calls >= 2 * len({e.seq for e in events if e.type == "contact_attempted"})
    assert [e.seq for e in events] == list(range(1, len(events) + 1))


async def test_an_invalid_number_is_an_outcome_and_the_line_leaves_the_rotation(
    env: WorkflowEnvironment,
) -> None:
    provider = ScriptedProvider(
        ContactOutcomes(default="invalid_number", by_channel={"sms": "delivered"})
    )
    store = InMemoryEventStore()
    case_id = await _run(env, store, provider, days=20)
    calls = [
        e
        for e in (event_from_payload(p) for p, _ in store.rows[case_id])
        if e.type == "contact_attempted" and e.channel == "call"
    ]
    # Two lines, each refused once: two calls in all, then nothing left to dial.
    assert [(c.line, c.outcome) for c in calls] == [
        ("mobile", "invalid_number"),
        ("home_phone", "invalid_number"),
    ]
