"""An override that arrives together with the start of its case (update-with-start,
or simply a busy worker that picks up both at once) is validated against the case as
it opens, then applied after it."""

from __future__ import annotations

import sys
import uuid
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from temporalio.client import WithStartWorkflowOperation, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.contact import ScriptedProvider
from arrears.store.events import InMemoryEventStore, event_from_payload
from arrears.workers import case_activities
from domain.commands import CeaseContact, Waiver
from domain.events import Actor
from domain.intake import open_case
from domain.localtime import start_of_day
from domain.policy import Policy
from domain.simulation import ContactOutcomes
from tests.workflows.conftest import row
from workflows.case import CaseWorkflow
from workflows.case_io import BusinessClock, CaseInput, OverrideRequest

pytestmark = pytest.mark.integration
COLLECTOR = Actor(id="c-1", role="collector")


async def test_an_override_sent_with_the_start_is_checked_and_applied_after_the_opening() -> None:
    policy = Policy()
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(Path(sys.executable).parent / "temporal"),
        data_converter=pydantic_data_converter,
    )
    async with env:
        store = InMemoryEventStore()
        queue = f"uws-{uuid.uuid4().hex[:6]}"
        placement = row(account_id="UWS-000001", interest="0", fees="0", home_address=None)

        def start() -> WithStartWorkflowOperation[CaseWorkflow, object]:
            return WithStartWorkflowOperation(
                CaseWorkflow.run,
                CaseInput(
                    case_id=placement.case_id,
                    policy=policy,
                    clock=BusinessClock(
                        origin=start_of_day(date(2026, 3, 2), "Asia/Shanghai"), day_seconds=86400
                    ),
                    open=open_case(placement),
                    search_attributes=False,
                ),
                id=placement.case_id,
                task_queue=queue,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            )

        provider = ScriptedProvider(ContactOutcomes(default="no_answer"))
        async with Worker(env.client, task_queue=queue, workflows=[CaseWorkflow],
                          activities=case_activities(store, provider)):  # fmt: skip
            with pytest.raises(WorkflowUpdateFailedError) as refused:
                await env.client.execute_update_with_start_workflow(
                    CaseWorkflow.override,
                    OverrideRequest(
                        override=Waiver(actor=COLLECTOR, reason="r", amount=Decimal("10.00"))
                    ),
                    start_workflow_operation=start(),
                )
            assert "waiver_limit" in str(refused.value.cause)
            result = await env.client.execute_update_with_start_workflow(
                CaseWorkflow.override,
                OverrideRequest(override=CeaseContact(actor=COLLECTOR, reason="written request")),
                start_workflow_operation=start(),
            )
            assert [e["type"] for e in result.events] == ["override_applied", "hold_started"]
            handle = env.client.get_workflow_handle(placement.case_id)
            await handle.terminate("test over")
        types = [event_from_payload(p).type for p, _ in store.rows[placement.case_id]]
        assert types[0] == "case_opened" and "hold_started" in types
