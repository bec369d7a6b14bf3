"""Re-record the golden histories (run by hand, never by the test suite):

    .venv/bin/python -m tests.histories.record

Each is a real run of the case workflow on the time-skipping server. Name cases to
record only those (`... record cure_in_m1 live`). Record again only
when a change to the workflow is *meant* to alter history, and guard that change with
`workflow.patched()` so the old histories keep replaying.
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from temporalio.worker import Worker

from activities.contact import ScriptedProvider
from arrears.audit.histories import fetch_runs, write_runs
from arrears.policies import load_policy
from arrears.simulate.on_temporal import start_test_server
from arrears.simulate.scenario import load_scenario
from arrears.stack.temporal import install_runtime
from arrears.store.events import InMemoryEventStore
from arrears.workers import case_activities
from domain.commands import PromiseToPay
from domain.events import Actor
from domain.intake import open_case
from domain.localtime import start_of_day
from domain.placement import PlacementRow
from domain.policy import Policy
from domain.simulation import ContactOutcomes, horizon, scripted_inputs
from workflows.case import CaseWorkflow
from workflows.case_io import BusinessClock, CaseInput, OverrideRequest, PaymentSignal

HERE = Path(__file__).parent
SCENARIOS = HERE.parent / "scenarios"


async def main(names: list[str]) -> None:
    """Record the named cases (scenario files, or `live`), or every one when none is named."""
    install_runtime()
    env = await start_test_server()
    async with env:
        task_queue = f"record-{uuid.uuid4().hex[:6]}"
        provider = ScriptedProvider(
            ContactOutcomes(default="no_answer", by_channel={"sms": "delivered"})
        )
        async with Worker(
            env.client,
            task_queue=task_queue,
            workflows=[CaseWorkflow],
            activities=case_activities(InMemoryEventStore(), provider),
        ):
            for name in names or list(SCENARIO_CASES):
                if name in ("live", "short_terms_across_dst"):
                    continue
                scenario = load_scenario(SCENARIOS / f"{name}.json")
                policy = SCENARIO_CASES[name] or load_policy(scenario.profile)
                case_input = CaseInput(
                    case_id=f"golden-{name}",
                    policy=policy,
                    clock=BusinessClock(
                        origin=start_of_day(scenario.start, policy.cycle.bank_timezone)
                    ),
                    open=open_case(scenario.account),
                    script=scripted_inputs(scenario, policy),
                    until=horizon(scenario, policy),
                    search_attributes=False,
                )
                handle = await env.client.start_workflow(
                    CaseWorkflow.run, case_input, id=f"golden-{name}", task_queue=task_queue
                )
                await handle.result()
                runs = await fetch_runs(env.client, handle.id, handle.first_execution_run_id or "")
                write_runs(runs, HERE, f"golden-{name}")
            if not names or "live" in names:
                await _record_live_case(env, task_queue)
            if "short_terms_across_dst" in names:  # only when named: see its docstring
                await _record_short_terms_across_dst(env, task_queue)


#: The scenario files recorded, with the policy they were recorded under (None: the
#: scenario's own profile). Both were recorded with the defaults.
SCENARIO_CASES: dict[str, Policy | None] = {"cure_in_m1": Policy(), "promise_broken": Policy()}


async def _record_live_case(env, task_queue: str) -> None:  # type: ignore[no-untyped-def]
    """A case steered from outside: a promise by update, payments by signal."""
    policy = Policy()
    placement = PlacementRow.model_validate(
        {"account_id": "GOLDEN-LIVE", "debtor_name": "测试", "mobile": "+8613900000001",
         "credit_limit": "20000.00", "principal": "9000.00", "interest": "200.00", "fees": "40.00",
         "statement_day": 10, "oldest_unpaid_due_date": "2026-02-28", "unpaid_minimum": "900.00"}
    )  # fmt: skip
    start = date(2026, 3, 2)
    handle = await env.client.start_workflow(
        CaseWorkflow.run,
        CaseInput(
            case_id=placement.case_id,
            policy=policy,
            clock=BusinessClock(origin=start_of_day(start, policy.cycle.bank_timezone)),
            open=open_case(placement),
            until=start_of_day(start + timedelta(days=40), policy.cycle.bank_timezone),
            search_attributes=False,
        ),
        id="golden-live",
        task_queue=task_queue,
    )
    await env.sleep(timedelta(days=3))
    await handle.execute_update(
        CaseWorkflow.override,
        OverrideRequest(
            override=PromiseToPay(
                actor=Actor(id="c-1", role="collector"), reason="called in",
                amount=Decimal("500.00"), date=date(2026, 3, 9),
            )
        ),
    )  # fmt: skip
    await env.sleep(timedelta(days=2))
    await handle.signal(
        CaseWorkflow.payment, PaymentSignal(reference="PAY-G1", amount=Decimal("500.00"))
    )
    await env.sleep(timedelta(days=12))
    await handle.signal(
        CaseWorkflow.payment, PaymentSignal(reference="PAY-G1", amount=Decimal("500.00"))
    )
    await handle.result()
    runs = await fetch_runs(env.client, handle.id, handle.first_execution_run_id or "")
    write_runs(runs, HERE, "golden-live")


async def _record_short_terms_across_dst(env, task_queue: str) -> None:  # type: ignore[no-untyped-def]
    """A New York bank (us-reg-f) with 9-day placement terms: a case placed as it opens on
    2026-10-26 is recalled and placed again within the same run, after clocks went back
    on 2026-11-01. Recorded before terms were counted on the bank's calendar: the term
    then ended 9 x 24 hours after it began (2026-11-03 23:00 local), where the calendar
    count ends it at midnight. Replaying it proves the workflow patch keeps old cases:
    never record it again (it would then show the new count, and prove nothing)."""
    base = load_policy("us-reg-f")
    policy = base.model_copy(
        update={"outsourcing": base.outsourcing.model_copy(update={"term_days": 9})}
    )
    placement = PlacementRow.model_validate(
        {"account_id": "GOLDEN-DST", "debtor_name": "Test Debtor", "mobile": "+12025550123",
         "credit_limit": "5000.00", "principal": "3000.00", "interest": "0.00", "fees": "0.00",
         "statement_day": 10, "oldest_unpaid_due_date": "2026-05-05", "unpaid_minimum": "300.00",
         "timezone": "America/New_York"}
    )  # fmt: skip
    start = date(2026, 10, 26)
    bank = policy.cycle.bank_timezone
    handle = await env.client.start_workflow(
        CaseWorkflow.run,
        CaseInput(
            case_id=placement.case_id,
            policy=policy,
            clock=BusinessClock(origin=start_of_day(start, bank)),
            open=open_case(placement),
            until=start_of_day(date(2026, 11, 8), bank),
            search_attributes=False,
        ),
        id="golden-short_terms_across_dst",
        task_queue=task_queue,
    )
    await handle.result()
    runs = await fetch_runs(env.client, handle.id, handle.first_execution_run_id or "")
    write_runs(runs, HERE, "golden-short_terms_across_dst")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
