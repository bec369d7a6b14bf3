"""Supervisor overrides (POLICY §6): each is checked, then applied, or refused whole.

`check_override` raises `OverrideRejected` naming the rule and the values; it runs before
anything is written (the workflow's update validator calls it), so a refused override
changes nothing. `apply_override` records `override_applied` with the actor and reason,
then the events the override causes.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from domain.commands import (
    CeaseContact,
    CloseCase,
    EarlyPlacement,
    Escalate,
    InstallmentPlan,
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
from domain.decision import Decision, stage_rank
from domain.errors import OverrideRejected
from domain.events import (
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
from domain.localtime import end_of_day, local_date, start_of_day
from domain.money import CENT, charge
from domain.outsourcing import next_regular_hand
from domain.payments import close_if_done
from domain.policy import Policy
from domain.state import CaseState


def _reject(rule: str, message: str, **values: Any) -> OverrideRejected:
    return OverrideRejected(rule, message, **values)


def _require(condition: bool, rule: str, message: str, **values: Any) -> None:
    if not condition:
        raise _reject(rule, message, **values)


# --- checks -----------------------------------------------------------------------------


def check_authority(override: Override, policy: Policy) -> None:
    """POLICY §6: the actor's role must be allowed to give this override."""
    allowed = policy.authority.override_roles.get(override.kind, ())
    _require(
        override.actor.role in allowed,
        "authority",
        f"a {override.actor.role} may not give `{override.kind}`",
        role=override.actor.role,
        allowed="/".join(allowed) or "nobody",
    )


def check_case_open(state: CaseState) -> None:
    _require(state.opened, "case_open", "there is no such case")
    _require(not state.closed, "case_open", "the case is closed", outcome=state.outcome)


def check_promise(state: CaseState, o: PromiseToPay, today: date, policy: Policy) -> None:
    """POLICY §6: amount > 0 and within the balance; date from tomorrow to 30 days ahead."""
    latest = today + timedelta(days=policy.promises.max_days_ahead)
    _require(
        o.amount > 0, "promise_amount", "the promised amount must be positive", amount=o.amount
    )
    _require(
        o.amount == charge(o.amount),
        "promise_amount",
        "amounts have at most two decimals",
        amount=o.amount,
    )
    _require(
        o.amount <= state.total,
        "promise_amount",
        "the promise exceeds the balance",
        amount=o.amount,
        balance=state.total,
    )
    _require(
        today < o.date <= latest,
        "promise_date",
        f"the date must be after today and at most {policy.promises.max_days_ahead} days ahead",
        date=o.date,
        today=today,
        latest=latest,
    )
    _require(
        state.promise is None,
        "promise_active",
        "a promise is already running",
        due=state.promise.due if state.promise else None,
    )
    _require(state.plan is None, "plan_active", "an installment plan is running")


def check_plan(state: CaseState, o: InstallmentPlan, today: date, policy: Policy) -> None:
    """POLICY §6: up to 60 monthly installments, first one within the promise horizon."""
    limit = policy.promises.max_installments
    latest = today + timedelta(days=policy.promises.max_days_ahead)
    _require(
        2 <= o.installments <= limit,
        "plan_installments",
        f"a plan has 2 to {limit} installments",
        installments=o.installments,
    )
    _require(
        today < o.first_due <= latest,
        "plan_first_due",
        "the first installment is due after today and at most "
        f"{policy.promises.max_days_ahead} days ahead",
        first_due=o.first_due,
        today=today,
    )
    _require(state.plan is None, "plan_active", "an installment plan is already running")
    _require(state.total > 0, "plan_balance", "there is no balance to spread")


def check_waiver(state: CaseState, amount: Decimal, o: Waiver | Settlement, policy: Policy) -> None:
    """POLICY §6: waived share within the role's limit (collector 0 %, supervisor 20 %,
    manager 50 %); more needs the bank and is refused here.

    The limit is compared exactly (`amount <= limit x balance`): a share rounded first
    would let a waiver one cent over the limit through.
    """
    _require(amount > 0, "waiver_amount", "nothing would be waived", amount=amount)
    _require(
        amount == charge(amount),
        "waiver_amount",
        "amounts have at most two decimals",
        amount=amount,
    )
    _require(
        amount <= state.total,
        "waiver_amount",
        "the waiver exceeds the balance",
        amount=amount,
        balance=state.total,
    )
    limit = policy.authority.waiver_limits.get(o.actor.role, Decimal("0"))
    most = state.total * limit
    _require(
        amount <= most,
        "waiver_limit",
        f"a {o.actor.role} may waive at most {limit:.0%} of the balance",
        waived=amount,
        balance=state.total,
        most=most.quantize(CENT, rounding=ROUND_FLOOR),
        share=f"{amount / state.total:.4%}",
        limit=f"{limit:.0%}",
    )


def check_override(state: CaseState, override: Override, now: datetime, policy: Policy) -> None:
    """Every rule an override must pass; raises `OverrideRejected`, changes nothing."""
    check_authority(override, policy)
    check_case_open(state)
    today = local_date(now, policy.cycle.bank_timezone)
    match override:
        case PromiseToPay():
            check_promise(state, override, today, policy)
        case InstallmentPlan():
            check_plan(state, override, today, policy)
        case Waiver():
            check_waiver(state, override.amount, override, policy)
        case Settlement():
            _require(
                0 < override.amount < state.total,
                "settlement_amount",
                "a settlement is for a positive amount below the balance",
                amount=override.amount,
                balance=state.total,
            )
            check_waiver(state, state.total - override.amount, override, policy)
        case Pause():
            _require("pause" not in state.holds, "hold_active", "the case is already paused")
            _require(
                override.until is None or override.until > today,
                "pause_until",
                "a pause must end after today",
                until=override.until,
            )
        case Resume():
            _require("pause" in state.holds, "hold_inactive", "the case is not paused")
        case CeaseContact():
            _require(
                "cease_contact" not in state.holds, "hold_active", "contact has already ceased"
            )
        case OpenDispute():
            _require("dispute" not in state.holds, "hold_active", "a dispute is already open")
        case ResolveDispute():
            _require("dispute" in state.holds, "hold_inactive", "no dispute is open")
        case Escalate():
            check_escalation(state, override, policy)
        case EarlyPlacement():
            assert state.account is not None
            reason = (
                bool({"suspected_fraud", "cash_out"} & set(state.account.flags))
                or state.total > state.account.credit_limit
            )
            _require(
                reason,
                "early_placement",
                "early placement is for suspected over-limit use or cash-out",
                flags=",".join(state.account.flags) or "none",
            )
            _require(
                state.placement is None,
                "placed",
                "the case is already placed",
                agency=state.placement.agency if state.placement else None,
            )
            _require(
                stage_rank(state.stage) < stage_rank("legal"),
                "stage",
                "a case in legal is not placed",
            )
        case PackagePlacement():
            low, high = policy.outsourcing.package_rate_min, policy.outsourcing.package_rate_max
            _require(
                low <= override.rate <= high,
                "package_rate",
                f"a package rate is between {low:.0%} and {high:.0%}",
                rate=override.rate,
            )
            _require(state.placement is None, "placed", "the case is already placed")
            _require(
                stage_rank(state.stage) < stage_rank("legal"),
                "stage",
                "a case in legal is not placed",
            )
        case Recall():
            _require(
                state.placement is not None, "not_placed", "the case is not placed with an agency"
            )
        case RecordLegalMilestone():
            _require(
                state.stage == "legal",
                "stage",
                "legal milestones need a case in legal",
                stage=state.stage,
            )
            _require(
                override.milestone not in state.legal_milestones,
                "milestone_recorded",
                "this milestone is already recorded",
                milestone=override.milestone,
            )
        case CloseCase():
            pass


def check_escalation(state: CaseState, o: Escalate, policy: Policy) -> None:
    """A stage moves only forward; legal needs M3 or later (POLICY §3, §4)."""
    _require(
        stage_rank(o.to_stage) > stage_rank(state.stage),
        "stage_forward",
        "a stage only moves forward",
        stage=state.stage,
        to_stage=o.to_stage,
    )
    if o.to_stage == "legal":
        floor = policy.legal.supervisor_referral_from_bucket
        _require(
            state.bucket >= floor,
            "legal_referral",
            f"a supervisor may refer a case to legal from M{floor}",
            bucket=f"M{state.bucket}",
        )


# --- effects ----------------------------------------------------------------------------


def apply_override(d: Decision, override: Override) -> None:
    """Record the override, then what it causes. Call `check_override` first."""
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
    bank = d.policy.cycle.bank_timezone
    match override:
        case PromiseToPay():
            grace = timedelta(days=d.policy.promises.grace_days)
            d.emit(
                PromiseMade,
                amount=override.amount,
                due=override.date,
                pause_until=end_of_day(override.date + grace, bank),
            )
        case InstallmentPlan():
            amount = charge(d.state.total / override.installments)
            if amount * override.installments < d.state.total:
                amount += Decimal("0.01")  # round up so the installments cover the balance
            d.emit(
                PlanAgreed,
                installments=override.installments,
                installment_amount=amount,
                first_due=override.first_due,
            )
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
