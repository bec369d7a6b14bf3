"""Payments (POLICY §1, §2, §4, §6): allocation, commission, promises, plans, cure.

A payment is applied fees -> interest -> principal and to the unpaid minimums oldest
first. Its effects follow in the same decision: the agency's commission, a promise kept,
installments paid, a backward roll of the bucket, and the end of the case when every
past-due minimum is paid (cured) or an agreed settlement is paid off (settled).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from domain.commands import ReceivePayment
from domain.cycle import refresh_bucket
from domain.decision import Decision
from domain.delinquency import is_cured
from domain.events import (
    CaseClosed,
    CommissionEarned,
    InstallmentPaid,
    PaymentReceived,
    PlanCompleted,
    PromiseKept,
)
from domain.money import Balance, allocate
from domain.outsourcing import commission


def receive_payment(d: Decision, command: ReceivePayment) -> None:
    state = d.state
    if command.reference in state.payment_references:
        return  # the payments feed may repeat itself: one reference, one payment
    if state.closed:
        _hold_after_close(d, command)
        return
    balance = Balance(principal=state.principal, interest=state.interest, fees=state.fees)
    _, allocation = allocate(balance, command.amount)
    d.emit(
        PaymentReceived,
        reference=command.reference,
        amount=command.amount,
        to_fees=allocation.fees,
        to_interest=allocation.interest,
        to_principal=allocation.principal,
        unapplied=allocation.unapplied,
        paid_on=command.paid_on or d.bank_date(),
    )
    _earn_commission(d, command.reference, allocation.applied)
    _keep_promise(d)
    _pay_installments(d)
    refresh_bucket(d, d.now)
    close_if_done(d)


def _hold_after_close(d: Decision, command: ReceivePayment) -> None:
    """Money that reaches a case after it ended is recorded on it, whole, as unapplied
    credit: collections are over, so it is neither recovery nor commission; the bank's
    servicing applies it to the account or refunds it (`CaseState.unapplied_credit`).
    Recording it is what matters: money received is never lost."""
    zero = Decimal("0.00")
    d.emit(
        PaymentReceived,
        reference=command.reference,
        amount=command.amount,
        to_fees=zero,
        to_interest=zero,
        to_principal=zero,
        unapplied=command.amount,
        paid_on=command.paid_on or d.bank_date(),
    )


def _earn_commission(d: Decision, reference: str, applied: Decimal) -> None:
    placement = d.state.placement
    if placement is not None and applied > 0:
        d.emit(
            CommissionEarned,
            agency=placement.agency,
            hand=placement.hand,
            rate=placement.rate,
            payment_reference=reference,
            amount=commission(applied, placement.rate),
        )


def _keep_promise(d: Decision) -> None:
    promise = d.state.promise
    if promise is not None and promise.paid >= promise.amount:
        d.emit(PromiseKept, amount=promise.amount, paid=promise.paid)


def _pay_installments(d: Decision) -> None:
    while (plan := d.state.plan) is not None:
        next_number = plan.installments_paid + 1
        if plan.paid < plan.installment_amount * next_number:
            return
        d.emit(InstallmentPaid, number=next_number)
        if next_number == plan.installments:
            d.emit(PlanCompleted)
            return


def close_if_done(d: Decision) -> None:
    """Settled once an agreed settlement is paid off; otherwise cured once every
    past-due minimum is paid (POLICY §2 cure)."""
    state = d.state
    if state.closed:
        return
    if state.settlement is not None:
        if state.total == 0:
            _close(d, "settled")
        return
    if state.total == 0 and state.waived:
        _close(d, "settled")
    elif is_cured(state.dues, d.bank_date()):
        _close(d, "cured")


def _close(d: Decision, outcome: Literal["cured", "settled"]) -> None:
    """An agency holding the case is told it is over (POLICY §4): it must stop collecting."""
    d.recall(outcome)
    d.emit(CaseClosed, outcome=outcome)
