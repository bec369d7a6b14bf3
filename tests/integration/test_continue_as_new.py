"""Continue-as-new when the server suggests it, not only at statement dates: a dev
server with a very low history limit makes a case roll over between two statements,
and the state crosses every run intact."""

from __future__ import annotations

import sys
import uuid
from datetime import date, timedelta
from pathlib import Path

import pytest
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.contact import ScriptedProvider
from arrears.audit.histories import fetch_runs
from arrears.store.events import InMemoryEventStore, event_from_payload
from arrears.workers import case_activities
from domain.evolve import fold
from domain.intake import open_case
from domain.localtime import start_of_day
from domain.policy import Policy
from domain.simulation import ContactOutcomes
from tests.workflows.conftest import row
from workflows.case import CaseWorkflow
from workflows.case_io import BusinessClock, CaseInput

pytestmark = pytest.mark.integration


async def test_a_case_continues_as_new_when_its_history_passes_the_suggested_limit() -> None:
    policy = Policy()
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(Path(sys.executable).parent / "temporal"),
        dev_server_extra_args=[
            "--dynamic-config-value",
            "limit.historyCount.suggestContinueAsNew=60",
        ],
        data_converter=pydantic_data_converter,
    )
    async with env:
        store = InMemoryEventStore()
        provider = ScriptedProvider(
            ContactOutcomes(default="no_answer", by_channel={"sms": "delivered"})
        )
        queue = f"can-{uuid.uuid4().hex[:6]}"
        placement = row(account_id="CAN-000001", interest="0", fees="0", home_address=None)
        # Opened the day after a statement, run for 25 business days: no statement date
        # falls inside, so every new run comes from the server's suggestion.
        origin = start_of_day(date(2026, 3, 11), policy.cycle.bank_timezone)
        case_input = CaseInput(
            case_id=placement.case_id,
            policy=policy,
            clock=BusinessClock(origin=origin, day_seconds=0.05),
            open=open_case(placement),
            until=origin + timedelta(days=25),
            search_attributes=False,
        )
        async with Worker(env.client, task_queue=queue, workflows=[CaseWorkflow],
                          activities=case_activities(store, provider)):  # fmt: skip
            handle = await env.client.start_workflow(
                CaseWorkflow.run, case_input, id=placement.case_id, task_queue=queue
            )
            result = await handle.result()
            runs = await fetch_runs(env.client, handle.id, handle.first_execution_run_id or "")
        events = [event_from_payload(p) for p, _ in store.rows[placement.case_id]]
        assert "statement_issued" not in [e.type for e in events]
        assert len(runs) >= 2
        assert [e.seq for e in events] == list(range(1, result.last_seq + 1))
        contact_days = {e.at.date() for e in events if e.type == "contact_attempted"}
        assert len(contact_days) >= 10  # the case kept working across the runs
        assert fold(events).seq == result.last_seq
