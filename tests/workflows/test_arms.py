"""A case of a champion / challenger test on the time-skipping server: moved to the other
arm, it follows that arm's profile across continue-as-new, and a payment that reaches it
after it ended is decided under that profile too.

The other arm here is `cn-card` with one change the case shows at once: a supervisor may
waive nothing (`WAIVERS_BY_MANAGERS`), or the top bucket is M1 (`COARSE`)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError

from activities.event_store import AppendEvents
from arrears.audit.findings import payload_json
from domain.arms import Arm
from domain.commands import CloseCase, MoveArm, Waiver
from domain.events import Actor, ArmChanged
from domain.policy import AuthorityPolicy, DelinquencyPolicy, Policy
from tests.workflows.conftest import POLICY, CaseHarness, row
from workflows.case import CaseWorkflow
from workflows.case_io import CaseInput, CaseResult, OverrideRequest, PaymentSignal

SUPERVISOR = Actor(id="s-1", role="supervisor")
MANAGER = Actor(id="m-1", role="manager")
WAIVERS_BY_MANAGERS = Policy(
    name="cn-card-w", authority=AuthorityPolicy(waiver_limits={"supervisor": Decimal("0")})
)
COARSE = Policy(name="cn-card-m1", delinquency=DelinquencyPolicy(top_bucket=1))


async def move(handle: WorkflowHandle[CaseWorkflow, CaseResult], arm: Arm) -> None:
    request = OverrideRequest(override=MoveArm(actor=SUPERVISOR, reason="test", arm=arm))
    await handle.execute_update(CaseWorkflow.override, request)


def waiver() -> OverrideRequest:
    return OverrideRequest(override=Waiver(actor=SUPERVISOR, reason="goodwill", amount="1.00"))


async def test_a_moved_case_keeps_its_arm_and_that_arms_profile_across_continue_as_new(
    cases: CaseHarness,
) -> None:
    placement = row()
    handle = await cases.start(placement, other_arm=WAIVERS_BY_MANAGERS)
    await cases.sleep_days(1)
    await move(handle, "challenger")
    await cases.sleep_days(12)  # past the statement of 03-10: the case continued as new

    assert (await handle.describe()).run_id != handle.first_execution_run_id
    assert (await handle.query(CaseWorkflow.view)).state.arm == "challenger"
    # The challenger's rule, not the champion's 20 %: a supervisor may waive nothing.
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(CaseWorkflow.override, waiver())
    assert "waiver_limit" in str(refused.value.cause)
    # The champion's profile was carried as the other arm: the move back is to it, and
    # its rule applies again.
    await move(handle, "champion")
    await handle.execute_update(CaseWorkflow.override, waiver())

    moves = [e for e in cases.events(placement.case_id) if isinstance(e, ArmChanged)]
    assert [(m.arm, m.policy) for m in moves] == [
        ("challenger", "cn-card-w"), ("champion", POLICY.name),
    ]  # fmt: skip
    assert cases.types(placement.case_id)[-1] == "balance_waived"


def summaries(history_events: Sequence[HistoryEvent]) -> list[AppendEvents]:
    """The appends a run scheduled, with the `cases` row each one writes."""
    return [
        AppendEvents.model_validate(payload_json(attrs.input.payloads[0]))
        for e in history_events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
        and (attrs := e.activity_task_scheduled_event_attributes).activity_type.name
        == "append_events"
    ]


async def test_a_late_payment_to_an_ended_challenger_case_is_decided_under_its_profile(
    cases: CaseHarness,
) -> None:
    # Opened in M1 (its oldest unpaid due date a month before the start).
    placement = row(oldest_unpaid_due_date="2026-01-28")
    handle = await cases.start(placement, other_arm=COARSE)
    await cases.sleep_days(1)
    await move(handle, "challenger")
    close = CloseCase(actor=MANAGER, reason="uncollectable", outcome="written_off")
    await handle.execute_update(CaseWorkflow.override, OverrideRequest(override=close))
    await handle.result()

    # Sent as `arrears payments` sends it: the configured profile first, the other arm
    # beside it; the run follows the arm the case's events name.
    late = await cases.env.client.start_workflow(
        CaseWorkflow.run,
        CaseInput(
            case_id=placement.case_id,
            policy=POLICY,
            other_arm=COARSE,
            after_close=True,
            search_attributes=False,
        ),
        id=handle.id,
        task_queue=cases.task_queue,
        start_signal="payment",
        start_signal_args=[PaymentSignal(reference=f"LATE-{uuid.uuid4().hex[:6]}", amount="5.00")],
    )
    await late.result()
    [append] = summaries((await late.fetch_history()).events)

    assert [e.type for e in append.events] == ["payment_received"]
    # The case row is written with the challenger's buckets (M1 is its top: "M1+").
    assert (append.summary.arm, append.summary.policy, append.summary.bucket) == (
        "challenger", "cn-card-m1", "M1+",
    )  # fmt: skip
