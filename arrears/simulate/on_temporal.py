"""`simulate --engine temporal`: the scenario through the real case workflow on a local
time-skipping Temporal server, printing the same timeline as `--engine domain`.

The workflow runs as in production (timers, activities, continue-as-new at each
statement), with the business clock's origin at the scenario's start (the test server's
clock starts at today and cannot go back: ARCHITECTURE decision 6). Scripted payments and
overrides travel in the workflow input and are applied at their business times, contact
attempts go through the activity to a scripted provider, and events are appended to an
in-memory store with the same semantics as PostgreSQL's (no database needed).
"""

from __future__ import annotations

import uuid

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.contact import ScriptedProvider
from arrears.errors import ServiceUnavailable
from arrears.stack.temporal import binary
from arrears.store.events import InMemoryEventStore, event_from_payload
from arrears.workers import case_activities
from domain.evolve import fold
from domain.intake import open_case
from domain.localtime import start_of_day
from domain.placement import case_id_for
from domain.policy import Policy
from domain.simulation import Scenario, Timeline, horizon, scripted_inputs, timeline
from workflows.case import CaseWorkflow
from workflows.case_io import BusinessClock, CaseInput


async def start_test_server() -> WorkflowEnvironment:
    try:
        return await WorkflowEnvironment.start_time_skipping(
            test_server_existing_path=str(binary("temporal-test-server")),
            data_converter=pydantic_data_converter,
        )
    except RuntimeError as err:
        raise ServiceUnavailable(
            f"the time-skipping Temporal test server did not start: {err}"
        ) from None


async def run_on_temporal(env: WorkflowEnvironment, scenario: Scenario, policy: Policy) -> Timeline:
    """One scenario through the workflow on `env` (a time-skipping environment)."""
    store = InMemoryEventStore()
    case_id = case_id_for(scenario.account.account_id)
    task_queue = f"simulate-{uuid.uuid4().hex[:8]}"
    end = horizon(scenario, policy)
    case_input = CaseInput(
        case_id=case_id,
        policy=policy,
        clock=BusinessClock(origin=start_of_day(scenario.start, policy.cycle.bank_timezone)),
        open=open_case(scenario.account),
        script=scripted_inputs(scenario, policy),
        until=end,
        search_attributes=False,
    )
    activities = case_activities(store, ScriptedProvider(scenario.contact_outcomes))
    async with Worker(
        env.client, task_queue=task_queue, workflows=[CaseWorkflow], activities=activities
    ):
        await env.client.execute_workflow(
            CaseWorkflow.run,
            case_input,
            id=f"simulate-{case_id}-{uuid.uuid4().hex[:6]}",
            task_queue=task_queue,
        )
    events = [event_from_payload(payload) for payload, _ in store.rows.get(case_id, [])]
    return timeline(fold(events), events, scenario.account.account_id, end, policy)


async def simulate_on_temporal(scenario: Scenario, policy: Policy) -> Timeline:
    env = await start_test_server()
    async with env:
        return await run_on_temporal(env, scenario, policy)
