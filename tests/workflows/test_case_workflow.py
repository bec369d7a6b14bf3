"""The case workflow on the time-skipping server: timers per billing cycle, signals,
updates with validators, holds, placements, legal referral and continue-as-new."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from domain.commands import CeaseContact, OpenDispute, PromiseToPay, ResolveDispute, Waiver
from domain.events import Actor
from domain.evolve import fold
from domain.localtime import start_of_day
from tests.workflows.conftest import POLICY, CaseHarness, row
from workflows.case import CaseWorkflow
from workflows.case_io import OverrideRequest, PaymentSignal

COLLECTOR = Actor(id="c-1", role="collector")
SUPERVISOR = Actor(id="s-1", role="supervisor")


def _after(types: list[str], first: str) -> list[str]:
    return types[types.index(first) + 1 :]


async def test_a_payment_covering_the_past_due_minimums_cures_a_case_in_m1(
    cases: CaseHarness,
) -> None:
    placement = row()
    handle = await cases.start(placement)
    await cases.sleep_days(12)  # past the statement of 2026-03-10: M1
    view = await handle.query(CaseWorkflow.view)
    assert view.state.bucket == 1 and view.state.stage == "phone"
    due = view.state.minimum_due_total
    await handle.signal(CaseWorkflow.payment, PaymentSignal(reference="PAY-1", amount=due))
    result = await handle.result()
    assert result.outcome == "cured"
    types = cases.types(placement.case_id)
    assert types[-2:] == ["payment_received", "case_closed"] or types[-3:-1] == [
        "payment_received",
        "bucket_changed",
    ]


async def test_a_repeated_payment_reference_is_applied_once(cases: CaseHarness) -> None:
    placement = row()
    handle = await cases.start(placement)
    await cases.sleep_days(1)
    for _ in range(3):
        await handle.signal(
            CaseWorkflow.payment, PaymentSignal(reference="PAY-SAME", amount=Decimal("100.00"))
        )
    await cases.sleep_days(1)
    view = await handle.query(CaseWorkflow.view)
    assert view.state.payment_references == ("PAY-SAME",)
    assert cases.types(placement.case_id).count("payment_received") == 1


async def test_a_kept_promise_pauses_contact_until_the_money_arrives(cases: CaseHarness) -> None:
    placement = row()
    handle = await cases.start(placement)
    await cases.sleep_days(3)  # business 2026-03-05
    update = await handle.execute_update(
        CaseWorkflow.override,
        OverrideRequest(
            override=PromiseToPay(
                actor=COLLECTOR, reason="called in", amount=Decimal("500.00"), date=date(2026, 3, 9)
            )
        ),
    )
    assert [e["type"] for e in update.events] == ["override_applied", "promise_made"]
    await cases.sleep_days(2)
    await handle.signal(
        CaseWorkflow.payment, PaymentSignal(reference="PAY-PTP", amount=Decimal("500.00"))
    )
    await cases.sleep_days(1)
    types = cases.types(placement.case_id)
    between = types[types.index("promise_made") + 1 : types.index("promise_kept")]
    assert "promise_kept" in types and "promise_broken" not in types
    assert "contact_attempted" not in between


async def test_a_broken_promise_is_recorded_after_the_grace_days_and_contact_resumes(
    cases: CaseHarness,
) -> None:
    placement = row()
    handle = await cases.start(placement)
    await cases.sleep_days(3)
    await handle.execute_update(
        CaseWorkflow.override,
        OverrideRequest(
            override=PromiseToPay(
                actor=COLLECTOR, reason="called in", amount=Decimal("500.00"), date=date(2026, 3, 9)
            )
        ),
    )
    await cases.sleep_days(12)  # past 2026-03-09 + 2 grace days
    events = cases.events(placement.case_id)
    broken = [e for e in events if e.type == "promise_broken"]
    assert len(broken) == 1
    # POLICY §6: broken when the date + 2 days grace ends without the money.
    assert broken[0].at == start_of_day(date(2026, 3, 12), POLICY.cycle.bank_timezone)
    assert "contact_attempted" in _after([e.type for e in events], "promise_broken")


async def test_cease_contact_stops_contact_and_a_dispute_holds_until_resolved(
    cases: CaseHarness,
) -> None:
    placement = row()
    handle = await cases.start(placement)
    await cases.sleep_days(1)
    await handle.execute_update(
        CaseWorkflow.override,
        OverrideRequest(override=OpenDispute(actor=COLLECTOR, reason="debtor disputes the debt")),
    )
    await cases.sleep_days(10)
    assert "contact_attempted" not in _after(cases.types(placement.case_id), "hold_started")
    await handle.execute_update(
        CaseWorkflow.override,
        OverrideRequest(override=ResolveDispute(actor=SUPERVISOR, reason="statement verified")),
    )
    await cases.sleep_days(3)
    assert "contact_attempted" in _after(cases.types(placement.case_id), "hold_ended")
    await handle.execute_update(
        CaseWorkflow.override,
        OverrideRequest(override=CeaseContact(actor=COLLECTOR, reason="written request")),
    )
    await cases.sleep_days(20)
    types = cases.types(placement.case_id)
    last_hold = len(types) - 1 - types[::-1].index("hold_started")
    assert "contact_attempted" not in types[last_hold:]


async def test_an_invalid_override_is_rejected_before_anything_reaches_history(
    cases: CaseHarness,
) -> None:
    placement = row()
    handle = await cases.start(placement)
    await cases.sleep_days(1)
    with pytest.raises(WorkflowUpdateFailedError) as failure:
        await handle.execute_update(
            CaseWorkflow.override,
            OverrideRequest(
                override=Waiver(actor=COLLECTOR, reason="goodwill", amount=Decimal("100.00"))
            ),
        )
    cause = failure.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == "OverrideRejected"
    assert "waiver_limit" in str(cause)
    history = await handle.fetch_history()
    update_events = [
        e for e in history.events
        if e.event_type in (EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
                            EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED)
    ]  # fmt: skip
    assert update_events == []
    assert not [t for t in cases.types(placement.case_id) if t.startswith("override")]


async def test_the_ladder_reaches_outsourcing_and_three_hands_with_recalls(
    cases: CaseHarness,
) -> None:
    placement = row(principal="30000.00", credit_limit="30000.00", unpaid_minimum="3000.00")
    until = start_of_day(date(2026, 3, 2) + timedelta(days=420), POLICY.cycle.bank_timezone)
    handle = await cases.start(placement, until=until)
    result = await handle.result()
    events = cases.events(placement.case_id)
    stages = [e.stage for e in events if e.type == "stage_changed"]
    assert stages == ["phone", "letter", "visit", "outsourcing"]
    hands = [e.hand for e in events if e.type == "placed"]
    assert hands == ["first", "second", "third", "long_aged"]
    assert [e.reason for e in events if e.type == "recalled"] == ["term_ended"] * 3
    assert result.outcome == "open" and result.last_seq == len(events)


async def test_a_case_at_the_legal_threshold_is_referred_to_legal(cases: CaseHarness) -> None:
    placement = row(
        principal="60000.00",
        credit_limit="60000.00",
        unpaid_minimum="6000.00",
        oldest_unpaid_due_date="2025-12-28",
    )
    until = start_of_day(date(2026, 3, 2) + timedelta(days=330), POLICY.cycle.bank_timezone)
    handle = await cases.start(placement, until=until)
    await handle.result()
    events = cases.events(placement.case_id)
    referred = [e for e in events if e.type == "legal_referred"]
    assert len(referred) == 1 and referred[0].balance >= POLICY.legal.threshold
    assert events[-1].type != "contact_attempted" or events[-1].at < referred[0].at


async def test_continue_as_new_at_statements_carries_the_state(cases: CaseHarness) -> None:
    placement = row()
    until = start_of_day(date(2026, 3, 2) + timedelta(days=75), POLICY.cycle.bank_timezone)
    handle = await cases.start(placement, until=until)
    first_run = handle.first_execution_run_id
    result = await handle.result()
    description = await handle.describe()
    assert description.run_id != first_run  # three statement dates: at least three new runs
    events = cases.events(placement.case_id)
    final = await handle.query(CaseWorkflow.view)
    assert final.state == fold(events)
    assert result.last_seq == len(events) == final.state.seq


async def test_a_payment_keeps_the_value_date_the_feed_reports(cases: CaseHarness) -> None:
    placement = row()
    handle = await cases.start(placement)
    await cases.sleep_days(5)  # business 2026-03-07
    await handle.signal(
        CaseWorkflow.payment,
        PaymentSignal(reference="PAY-VALUE", amount=Decimal("50.00"), paid_on=date(2026, 3, 6)),
    )
    await cases.sleep_days(1)
    paid = [e for e in cases.events(placement.case_id) if e.type == "payment_received"]
    assert [(p.reference, p.paid_on) for p in paid] == [("PAY-VALUE", date(2026, 3, 6))]
