"""Supervisor overrides (POLICY §6): each is checked, then applied, or refused whole.

`check_override` (`domain.override_checks`, re-exported here) raises `OverrideRejected`
naming the rule and the values; it runs before anything is written (the workflow's update
validator calls it), so a refused override changes nothing. `apply_override` records
`override_applied` with the actor and reason, then the events the override causes.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from domain.commands import (
    CeaseContact,
    CloseCase,
    EarlyPlacement,
    Escalate,
    InstallmentPlan,
    MoveArm,
    OpenDispute,
    Override,
    PackagePlacement,
    Pause,
    PromiseToPay,
    Recall,
    RecordLegalMilestone,
    ResolveDispute,
    Resume,
    Settlement,
    Waiver,
)
from domain.decision import Decision
from domain.events import (
    ArmChanged,
    BalanceWaived,
    CaseClosed,
    HoldEnded,
    HoldStarted,
    LegalMilestoneReached,
    OverrideApplied,
    PlanAgreed,
    PromiseMade,
    StageChanged,
)
from domain.localtime import end_of_day, start_of_day
from domain.money import charge
from domain.outsourcing import next_regular_hand
from domain.override_checks import check_override as check_override  # re-exported
from domain.payments import close_if_done


def apply_override(d: Decision, override: Override) -> None:
    """Record the override, then what it causes. Call `check_override` first.

    One line or two per kind, as a table would be; the kinds that need a computation
    have a function of their own."""
    _record(d, override)
    bank = d.policy.cycle.bank_timezone
    match override:
        case PromiseToPay():
            _promise(d, override)
        case InstallmentPlan():
            _plan(d, override)
        case Waiver():
            _waive(d, override.amount, None, override.amount / d.state.total)
        case Settlement():
            waived = d.state.total - override.amount
            _waive(d, waived, override.amount, waived / d.state.total)
        case Pause():
            until = start_of_day(override.until, bank) if override.until else None
            d.emit(HoldStarted, kind="pause", until=until)
        case Resume():
            d.emit(HoldEnded, kind="pause")
        case CeaseContact():
            d.emit(HoldStarted, kind="cease_contact")
        case OpenDispute():
            d.emit(HoldStarted, kind="dispute")
        case ResolveDispute():
            d.emit(HoldEnded, kind="dispute")
        case Escalate():
            d.enter_stage(override.to_stage, f"override by {override.actor.role}")
        case EarlyPlacement():
            _to_outsourcing(d, override.actor.role)
            d.place("early", agency=override.agency)
        case PackagePlacement():
            _to_outsourcing(d, override.actor.role)
            d.place("package", rate=override.rate, agency=override.agency)
        case Recall():
            d.recall("override")
            if d.state.stage == "outsourcing":
                d.place(next_regular_hand(d.state.regular_hands))
        case RecordLegalMilestone():
            d.emit(LegalMilestoneReached, milestone=override.milestone)
            if override.milestone == "closed":
                d.emit(CaseClosed, outcome="closed")
        case CloseCase():
            d.recall("case_closed")
            d.emit(CaseClosed, outcome=override.outcome)
        case MoveArm():
            # Decided with the profile of the arm the case moves to (the workflow's
            # choice, `workflows.case`): it is the profile the case follows from here.
            d.emit(ArmChanged, arm=override.arm, previous=d.state.arm, policy=d.policy.name)


def _record(d: Decision, override: Override) -> None:
    """`override_applied`: who gave the override, why, and its arguments as text."""
    args = {
        k: str(v)
        for k, v in override.model_dump(exclude={"actor", "reason", "kind"}).items()
        if v is not None
    }
    d.emit(
        OverrideApplied,
        override=override.kind,
        actor=override.actor,
        reason=override.reason,
        args=args,
    )


def _promise(d: Decision, o: PromiseToPay) -> None:
    """A promise pauses contact until its date plus the grace days (end of that day)."""
    grace = timedelta(days=d.policy.promises.grace_days)
    pause_until = end_of_day(o.date + grace, d.policy.cycle.bank_timezone)
    d.emit(PromiseMade, amount=o.amount, due=o.date, pause_until=pause_until)


def _plan(d: Decision, o: InstallmentPlan) -> None:
    """Equal installments, rounded up to the cent so that together they cover the balance."""
    amount = charge(d.state.total / o.installments)
    if amount * o.installments < d.state.total:
        amount += Decimal("0.01")
    d.emit(
        PlanAgreed,
        installments=o.installments,
        installment_amount=amount,
        first_due=o.first_due,
    )


def _to_outsourcing(d: Decision, role: str) -> None:
    """Entering outsourcing by override places the case with the override's hand."""
    if d.state.stage != "outsourcing":
        d.emit(
            StageChanged, stage="outsourcing", previous=d.state.stage, reason=f"override by {role}"
        )


def _waive(d: Decision, amount: Decimal, settlement: Decimal | None, share: Decimal) -> None:
    """Waive fees first, then interest, then principal: what the bank forgoes first is
    what it never lent."""
    s = d.state
    from_fees = min(amount, s.fees)
    from_interest = min(amount - from_fees, s.interest)
    from_principal = amount - from_fees - from_interest
    d.emit(
        BalanceWaived,
        from_fees=from_fees,
        from_interest=from_interest,
        from_principal=from_principal,
        share=share.quantize(Decimal("0.0001")),
        settlement_amount=settlement,
    )
    close_if_done(d)
