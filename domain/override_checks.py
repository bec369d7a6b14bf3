"""The rules a supervisor override must pass (POLICY §6), checked before anything is
written: `check_override` raises `OverrideRejected` naming the rule and the values, and
the workflow's update validator calls it, so a refused override changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from typing import Any

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
from domain.decision import stage_rank
from domain.errors import OverrideRejected
from domain.localtime import local_date
from domain.money import CENT, charge
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
    _CHECKS[type(override)](state, override, today, policy)


def _check_waiver(state: CaseState, o: Waiver, today: date, policy: Policy) -> None:
    check_waiver(state, o.amount, o, policy)


def _check_settlement(state: CaseState, o: Settlement, today: date, policy: Policy) -> None:
    """A settlement waives what it leaves unpaid: that share is checked as a waiver."""
    _require(
        0 < o.amount < state.total,
        "settlement_amount",
        "a settlement is for a positive amount below the balance",
        amount=o.amount,
        balance=state.total,
    )
    check_waiver(state, state.total - o.amount, o, policy)


def _check_pause(state: CaseState, o: Pause, today: date, policy: Policy) -> None:
    _require("pause" not in state.holds, "hold_active", "the case is already paused")
    _require(
        o.until is None or o.until > today,
        "pause_until",
        "a pause must end after today",
        until=o.until,
    )


def _check_resume(state: CaseState, o: Resume, today: date, policy: Policy) -> None:
    _require("pause" in state.holds, "hold_inactive", "the case is not paused")


def _check_cease(state: CaseState, o: CeaseContact, today: date, policy: Policy) -> None:
    _require("cease_contact" not in state.holds, "hold_active", "contact has already ceased")


def _check_dispute(state: CaseState, o: OpenDispute, today: date, policy: Policy) -> None:
    _require("dispute" not in state.holds, "hold_active", "a dispute is already open")


def _check_resolve(state: CaseState, o: ResolveDispute, today: date, policy: Policy) -> None:
    _require("dispute" in state.holds, "hold_inactive", "no dispute is open")


def _check_escalate(state: CaseState, o: Escalate, today: date, policy: Policy) -> None:
    check_escalation(state, o, policy)


def _check_early(state: CaseState, o: EarlyPlacement, today: date, policy: Policy) -> None:
    """Early placement needs a reason: suspected fraud or cash-out, or over the limit."""
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
    _require_before_legal(state)


def _check_package(state: CaseState, o: PackagePlacement, today: date, policy: Policy) -> None:
    low, high = policy.outsourcing.package_rate_min, policy.outsourcing.package_rate_max
    _require(
        low <= o.rate <= high,
        "package_rate",
        f"a package rate is between {low:.0%} and {high:.0%}",
        rate=o.rate,
    )
    _require(state.placement is None, "placed", "the case is already placed")
    _require_before_legal(state)


def _require_before_legal(state: CaseState) -> None:
    _require(
        stage_rank(state.stage) < stage_rank("legal"), "stage", "a case in legal is not placed"
    )


def _check_recall(state: CaseState, o: Recall, today: date, policy: Policy) -> None:
    _require(state.placement is not None, "not_placed", "the case is not placed with an agency")


def _check_milestone(
    state: CaseState, o: RecordLegalMilestone, today: date, policy: Policy
) -> None:
    _require(
        state.stage == "legal",
        "stage",
        "legal milestones need a case in legal",
        stage=state.stage,
    )
    _require(
        o.milestone not in state.legal_milestones,
        "milestone_recorded",
        "this milestone is already recorded",
        milestone=o.milestone,
    )


def _check_nothing_more(state: CaseState, o: Override, today: date, policy: Policy) -> None:
    """Closing a case needs only the authority and an open case, checked for every kind."""


#: The rules of each kind of override, beyond authority and an open case. Every kind of
#: `Override` has an entry (tests/domain/test_overrides.py gives each kind to each role):
#: a missing one would be a KeyError, never an override let through unchecked.
def _check_move_arm(state: CaseState, o: MoveArm, today: date, policy: Policy) -> None:
    _require(o.arm != state.arm, "arm_same", "the case is in that arm already", arm=o.arm)


_CHECKS: dict[type[Any], Callable[[CaseState, Any, date, Policy], None]] = {
    PromiseToPay: check_promise,
    InstallmentPlan: check_plan,
    Waiver: _check_waiver,
    Settlement: _check_settlement,
    Pause: _check_pause,
    Resume: _check_resume,
    CeaseContact: _check_cease,
    OpenDispute: _check_dispute,
    ResolveDispute: _check_resolve,
    Escalate: _check_escalate,
    EarlyPlacement: _check_early,
    PackagePlacement: _check_package,
    Recall: _check_recall,
    RecordLegalMilestone: _check_milestone,
    CloseCase: _check_nothing_more,
    MoveArm: _check_move_arm,
}


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
