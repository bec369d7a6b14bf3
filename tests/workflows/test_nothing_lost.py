"""Money received is never lost and nothing is applied twice: inputs queued when a case
ends, payments to a case that has ended, overrides sent twice, and a store conflict."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowUpdateFailedError

from arrears.store.events import chain_hash, payload_of
from domain.commands import PromiseToPay, Waiver
from domain.events import Actor, PaymentReceived
from tests.workflows.conftest import POLICY, CaseHarness, row
from workflows.case import CaseWorkflow
from workflows.case_io import CaseInput, OverrideRequest, PaymentSignal, RetryAppend

COLLECTOR = Actor(id="c-1", role="collector")
SUPERVISOR = Actor(id="s-1", role="supervisor")


def payments(cases: CaseHarness, case_id: str) -> list[PaymentReceived]:
    return [e for e in cases.events(case_id) if isinstance(e, PaymentReceived)]


async def test_a_payment_queued_behind_the_curing_one_is_recorded_to_the_cent(
    cases: CaseHarness,
) -> None:
    await cases.stop_worker()
    await cases.start_worker(cache=False)
    placement = row()
    handle = await cases.start(placement)
    await cases.sleep_days(1)
    due = (await handle.query(CaseWorkflow.view)).state.minimum_due_total
    await cases.stop_worker()  # both payments reach the case in one workflow task
    await handle.signal(CaseWorkflow.payment, PaymentSignal(reference="CURE", amount=due))
    await handle.signal(
        CaseWorkflow.payment, PaymentSignal(reference="EXTRA", amount=Decimal("10.00"))
    )
    await cases.start_worker()

    assert (await handle.result()).outcome == "cured"
    paid = payments(cases, placement.case_id)
    assert [(p.reference, p.amount) for p in paid] == [("CURE", due), ("EXTRA", Decimal("10.00"))]
    # the second came after the case ended: held whole as credit, not applied
    assert paid[1].unapplied == Decimal("10.00")
    assert sum(p.amount for p in paid) == due + Decimal("10.00")


async def test_a_payment_to_an_ended_case_is_recorded_on_it_as_unapplied_credit(
    cases: CaseHarness,
) -> None:
    placement = row()
    handle = await cases.start(placement)
    await cases.sleep_days(1)
    due = (await handle.query(CaseWorkflow.view)).state.minimum_due_total
    await handle.signal(CaseWorkflow.payment, PaymentSignal(reference="CURE", amount=due))
    await handle.result()
    seq_at_close = len(cases.events(placement.case_id))

    late = PaymentSignal(reference="LATE", amount=Decimal("25.50"))
    for _ in range(2):  # the same late payment posted twice is recorded once
        again = await cases.env.client.start_workflow(
            CaseWorkflow.run,
            CaseInput(
                case_id=placement.case_id, policy=POLICY, after_close=True, search_attributes=False
            ),
            id=handle.id,
            task_queue=cases.task_queue,
            start_signal="payment",
            start_signal_args=[late],
        )
        assert (await again.result()).outcome == "cured"

    events = cases.events(placement.case_id)
    assert [e.type for e in events[seq_at_close:]] == ["payment_received"]
    [recorded] = [p for p in payments(cases, placement.case_id) if p.reference == "LATE"]
    assert (recorded.amount, recorded.unapplied) == (Decimal("25.50"), Decimal("25.50"))
    assert recorded.seq == seq_at_close + 1


async def test_an_override_sent_twice_with_one_id_is_applied_once(cases: CaseHarness) -> None:
    placement = row()
    handle = await cases.start(placement)
    await cases.sleep_days(3)
    request = OverrideRequest(
        id=f"ovr-{uuid.uuid4().hex}",
        override=PromiseToPay(
            actor=COLLECTOR, reason="called in", amount=Decimal("500.00"), date=date(2026, 3, 20)
        ),
    )
    first = await handle.execute_update(CaseWorkflow.override, request)
    await cases.sleep_days(10)  # past the statement of 03-10: the case continued as new
    second = await handle.execute_update(CaseWorkflow.override, request)

    assert (await handle.describe()).run_id != handle.first_execution_run_id
    assert second == first
    assert cases.types(placement.case_id).count("promise_made") == 1


async def test_overrides_without_an_id_or_with_new_ids_are_each_applied(
    cases: CaseHarness,
) -> None:
    placement = row()
    handle = await cases.start(placement)
    await cases.sleep_days(1)
    waiver = Waiver(actor=SUPERVISOR, reason="goodwill", amount=Decimal("1.00"))
    for request_id in (None, "w-1", "w-2"):
        await handle.execute_update(
            CaseWorkflow.override, OverrideRequest(id=request_id, override=waiver)
        )
    assert cases.types(placement.case_id).count("balance_waived") == 3


async def test_a_store_conflict_stops_the_case_for_a_supervisor_instead_of_retrying_forever(
    cases: CaseHarness,
) -> None:
    placement = row()
    handle = await cases.start(placement)
    await cases.sleep_days(1)
    rows = cases.store.rows[placement.case_id]
    # Someone else's event under the case's next seq: the store and the history disagree.
    stray = {**rows[-1][0], "seq": len(rows) + 1, "type": "hold_ended", "kind": "pause"}
    rows.append((stray, chain_hash(rows[-1][1], stray)))

    await handle.signal(
        CaseWorkflow.payment, PaymentSignal(reference="P-1", amount=Decimal("10.00"))
    )
    await cases.sleep_days(2)
    view = await handle.query(CaseWorkflow.view)
    assert view.conflict is not None and view.conflict.seqs[0] == len(rows)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(
            CaseWorkflow.override,
            OverrideRequest(override=Waiver(actor=SUPERVISOR, reason="x", amount=Decimal("1"))),
        )
    assert "store_conflict" in str(refused.value.cause)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(
            CaseWorkflow.retry_append, RetryAppend(actor=COLLECTOR, reason="looked")
        )
    assert "retry_authority" in str(refused.value.cause)
    failed = [
        e
        async for e in handle.fetch_history_events()
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED
    ]
    assert len(failed) == 1  # tried once, not retried forever

    rows.pop()  # the stray row removed by whoever looked at the store
    await handle.execute_update(
        CaseWorkflow.retry_append, RetryAppend(actor=SUPERVISOR, reason="stray row removed")
    )
    await cases.sleep_days(1)
    assert (await handle.query(CaseWorkflow.view)).conflict is None
    stored = cases.events(placement.case_id)
    assert [p.reference for p in payments(cases, placement.case_id)] == ["P-1"]
    assert [payload_of(e) for e in stored] == [p for p, _ in rows]
