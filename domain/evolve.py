"""`evolve(state, event) -> state`: how each event changes a case. No rule is decided here.

Every change is a fact carried by the event, so replaying the events of a case rebuilds
exactly the state the decider saw, whatever policy is in force today.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields, replace
from datetime import timedelta
from decimal import Decimal
from typing import Any, Final, TypeVar

from domain.contact import is_bad_line, is_conversation, is_right_party
from domain.events import (
    ArmChanged,
    BalanceWaived,
    BucketChanged,
    CaseClosed,
    CaseOpened,
    ChargedOff,
    CommissionEarned,
    ContactAttempted,
    Event,
    FeeCharged,
    HoldEnded,
    HoldStarted,
    InstallmentPaid,
    InterestCharged,
    LegalMilestoneReached,
    LegalReferred,
    OverrideApplied,
    OverrideRejected,
    PaymentReceived,
    Placed,
    PlanAgreed,
    PlanBroken,
    PlanCompleted,
    PromiseBroken,
    PromiseKept,
    PromiseMade,
    Recalled,
    StageChanged,
    StatementIssued,
)
from domain.memo import LastStep
from domain.money import reduce_oldest_first
from domain.state import CaseState, ContactRecord, Due, Placement, Plan, Promise

#: Contact records older than this are dropped: no rule looks further back than a week.
CONTACT_MEMORY = timedelta(days=8)

Changes = dict[str, Any]
T = TypeVar("T")


def _opened(s: CaseState, e: CaseOpened) -> Changes:
    return {
        "opened": True,
        "account": e.account,
        "policy": e.policy,
        "arm": e.arm,
        "opened_at": e.at,
        "principal": e.principal,
        "interest": e.interest,
        "fees": e.fees,
        "dues": (Due(due_date=e.oldest_unpaid_due_date, amount=e.unpaid_minimum),),
        "last_statement_date": e.last_statement_date,
        "accrual_from": e.accrual_from,
        "stage": "reminder",
        "stage_entered_at": e.at,
    }


def _interest(s: CaseState, e: InterestCharged) -> Changes:
    return {"interest": s.interest + e.amount}


def _fee(s: CaseState, e: FeeCharged) -> Changes:
    changes: Changes = {"fees": s.fees + e.amount}
    if e.kind == "late":
        changes["open_due_date"] = None
    return changes


def _statement(s: CaseState, e: StatementIssued) -> Changes:
    dues = s.dues + ((Due(due_date=e.due_date, amount=e.minimum),) if e.minimum > 0 else ())
    return {
        "last_statement_date": e.statement_date,
        "accrual_from": e.statement_date,
        "open_due_date": e.due_date,
        "dues": dues,
    }


def _bucket(s: CaseState, e: BucketChanged) -> Changes:
    return {"bucket": int(e.bucket.removeprefix("M").removesuffix("+")), "dpd": e.dpd}


def _stage(s: CaseState, e: StageChanged) -> Changes:
    return {
        "stage": e.stage,
        "stage_entered_at": e.at,
        "stage_sms": 0,
        "letters_sent": (),
        "visit_done": False,
    }


def _contact(s: CaseState, e: ContactAttempted) -> Changes:
    # The event's fields read once (a pydantic attribute read costs about three plain
    # ones, and this runs for every contact attempt of every case).
    at, channel, target, outcome = e.at, e.channel, e.target, e.outcome
    line, index = e.line, e.contact_index
    record = _made(
        ContactRecord,
        {
            "at": at,
            "channel": channel,
            "target": target,
            "outcome": outcome,
            "line": line,
            "contact_index": index,
        },
    )
    # Records are in time order, so those past the memory are the oldest few.
    kept = s.recent_contacts
    forgotten = 0
    while forgotten < len(kept) and at - kept[forgotten].at >= CONTACT_MEMORY:
        forgotten += 1
    changes: Changes = {"recent_contacts": (*kept[forgotten:], record)}
    if channel == "sms":
        changes["stage_sms"], changes["last_sms_at"] = s.stage_sms + 1, at
    elif channel == "letter":
        changes["letters_sent"] = (*s.letters_sent, target)
    elif channel == "visit":
        changes["visit_done"] = True
    elif target == "debtor":
        changes["debtor_calls"], changes["last_call_at"] = s.debtor_calls + 1, at
        if line is not None and is_bad_line(outcome) and line not in s.bad_lines:
            changes["bad_lines"] = (*s.bad_lines, line)
    elif target == "contact" and index is not None:
        calls = dict(s.contact_calls) | {index: at}
        counts = dict(s.contact_call_counts)
        counts[index] = counts.get(index, 0) + 1
        changes |= {
            "third_party_calls": s.third_party_calls + 1,
            "contact_calls": tuple(sorted(calls.items())),
            "contact_call_counts": tuple(sorted(counts.items())),
        }
    if target == "debtor" and is_right_party(outcome):
        changes["last_rpc_at"] = at
    if (channel == "call" or channel == "visit") and is_conversation(outcome):
        changes["last_conversation_at"] = at
    return changes


def _payment(s: CaseState, e: PaymentReceived) -> Changes:
    applied = e.to_fees + e.to_interest + e.to_principal
    remaining, _ = reduce_oldest_first([d.amount for d in s.dues], applied)
    kept = s.dues[len(s.dues) - len(remaining) :]
    dues = tuple(
        Due(due_date=d.due_date, amount=amount) for d, amount in zip(kept, remaining, strict=True)
    )
    changes: Changes = {
        "fees": s.fees - e.to_fees,
        "interest": s.interest - e.to_interest,
        "principal": s.principal - e.to_principal,
        "dues": dues,
        "payment_references": (*s.payment_references, e.reference),
        "last_payment_at": e.at,
    }
    if e.unapplied:
        changes["unapplied_credit"] = s.unapplied_credit + e.unapplied
    if s.promise is not None:
        changes["promise"] = replace(s.promise, paid=s.promise.paid + e.amount)
    if s.plan is not None:
        changes["plan"] = replace(s.plan, paid=s.plan.paid + e.amount)
    return changes


def _waived(s: CaseState, e: BalanceWaived) -> Changes:
    principal = s.principal - e.from_principal
    interest = s.interest - e.from_interest
    fees = s.fees - e.from_fees
    return {
        "principal": principal,
        "interest": interest,
        "fees": fees,
        "dues": _cap_dues(s.dues, principal + interest + fees),
        "waived": True,
        "settlement": e.settlement_amount if e.settlement_amount is not None else s.settlement,
    }


def _cap_dues(dues: tuple[Due, ...], balance: Decimal) -> tuple[Due, ...]:
    """Minimums due never exceed the balance: after a waiver the newest are cut first."""
    capped: list[Due] = []
    room = balance
    for due in dues:
        amount = min(due.amount, room)
        room -= amount
        if amount > 0:
            capped.append(Due(due_date=due.due_date, amount=amount))
    return tuple(capped)


def _promise_made(s: CaseState, e: PromiseMade) -> Changes:
    return {
        "promise": Promise(amount=e.amount, due=e.due, pause_until=e.pause_until),
        "last_promise_at": e.at,
    }


def _promise_closed(s: CaseState, e: PromiseKept | PromiseBroken) -> Changes:
    return {"promise": None}


def _plan_agreed(s: CaseState, e: PlanAgreed) -> Changes:
    plan = Plan(
        installments=e.installments, installment_amount=e.installment_amount, first_due=e.first_due
    )
    return {"plan": plan, "last_promise_at": e.at}


def _installment_paid(s: CaseState, e: InstallmentPaid) -> Changes:
    assert s.plan is not None
    return {"plan": replace(s.plan, installments_paid=e.number)}


def _plan_ended(s: CaseState, e: PlanBroken | PlanCompleted) -> Changes:
    return {"plan": None}


def _placed(s: CaseState, e: Placed) -> Changes:
    regular = e.hand not in ("early", "package")
    return {
        "placement": Placement(
            agency=e.agency,
            hand=e.hand,
            rate=e.commission_rate,
            placed_at=e.at,
            term_ends=e.term_ends,
        ),
        "placements_made": s.placements_made + 1,
        "regular_hands": s.regular_hands + (1 if regular else 0),
    }


def _recalled(s: CaseState, e: Recalled) -> Changes:
    return {"placement": None}


def _legal_milestone(s: CaseState, e: LegalMilestoneReached) -> Changes:
    return {"legal_milestones": (*s.legal_milestones, e.milestone)}


def _hold_started(s: CaseState, e: HoldStarted) -> Changes:
    changes: Changes = {"holds": (*s.holds, e.kind)}
    if e.kind == "pause":
        changes["pause_until"] = e.until
    return changes


def _hold_ended(s: CaseState, e: HoldEnded) -> Changes:
    changes: Changes = {"holds": tuple(h for h in s.holds if h != e.kind)}
    if e.kind == "pause":
        changes["pause_until"] = None
    return changes


def _charged_off(s: CaseState, e: ChargedOff) -> Changes:
    return {"charged_off": True}


def _closed(s: CaseState, e: CaseClosed) -> Changes:
    return {"outcome": e.outcome}


def _arm_changed(s: CaseState, e: ArmChanged) -> Changes:
    return {"arm": e.arm, "policy": e.policy}


def _nothing(s: CaseState, e: Any) -> Changes:
    return {}


_HANDLERS: dict[type[Any], Callable[[CaseState, Any], Changes]] = {
    CaseOpened: _opened,
    InterestCharged: _interest,
    FeeCharged: _fee,
    StatementIssued: _statement,
    BucketChanged: _bucket,
    StageChanged: _stage,
    ContactAttempted: _contact,
    PaymentReceived: _payment,
    BalanceWaived: _waived,
    PromiseMade: _promise_made,
    PromiseKept: _promise_closed,
    PromiseBroken: _promise_closed,
    PlanAgreed: _plan_agreed,
    InstallmentPaid: _installment_paid,
    PlanBroken: _plan_ended,
    PlanCompleted: _plan_ended,
    Placed: _placed,
    Recalled: _recalled,
    CommissionEarned: _nothing,
    LegalReferred: _nothing,
    LegalMilestoneReached: _legal_milestone,
    OverrideApplied: _nothing,
    OverrideRejected: _nothing,
    HoldStarted: _hold_started,
    HoldEnded: _hold_ended,
    ChargedOff: _charged_off,
    CaseClosed: _closed,
    ArmChanged: _arm_changed,
}


#: The last contact attempt `evolve` applied: (the state before, the state after). An
#: attempt changes contact facts only (`_contact`), which no calendar rule reads, so the
#: schedule before it is the schedule after it; `domain.cycle` takes it from here instead
#: of working it out again (a test checks the claim over whole histories). Shared by the
#: cases of a worker, and safe so: one entry, matched by identity only (`LastStep`).
contact_steps: Final = LastStep()


def evolve(state: CaseState, event: Event) -> CaseState:
    """The state after `event`. Events must arrive in `seq` order, without gaps."""
    seq = event.seq
    if seq != state.seq + 1:
        raise ValueError(f"event seq {seq} does not follow {state.seq}")
    kind = type(event)
    changes = _HANDLERS[kind](state, event)
    changes["seq"], changes["as_of"] = seq, event.at
    new = _updated(state, changes)
    if kind is ContactAttempted:
        contact_steps.record(state, new)
    return new


# `_updated` and `_made` rely on this: nothing that the class's own `__init__` (or
# `dataclasses.replace`) would run besides setting the fields.
for _cls in (CaseState, ContactRecord):
    if hasattr(_cls, "__post_init__") or not all(f.init for f in fields(_cls)):
        raise TypeError(f"{_cls.__name__} has __post_init__ or non-init fields: run them")


def _made(cls: type[T], values: dict[str, Any]) -> T:
    """`cls(**values)` for a frozen dataclass given every field, at a third of the cost:
    its `__init__` sets each field through `object.__setattr__`, this sets the dict.
    Made for every contact attempt; tests/domain/test_fast_paths.py compares."""
    new = cls.__new__(cls)
    object.__setattr__(new, "__dict__", values)
    return new


def _updated(state: CaseState, changes: Changes) -> CaseState:
    """`dataclasses.replace(state, **changes)`, at a fraction of the cost (every event
    makes one): the old field values with `changes` applied, copied as one dict instead
    of passed one by one through the frozen class's `__init__`. A `CaseState` has no
    `__post_init__` and no field without `init`, so `replace` would do nothing more.
    tests/domain/test_fast_paths.py compares the two over whole histories."""
    return _made(type(state), {**state.__dict__, **changes})


def fold(events: list[Event], state: CaseState | None = None) -> CaseState:
    """Rebuild a case from its events (from scratch, or on top of a snapshot)."""
    current = state or CaseState()
    for event in events:
        current = evolve(current, event)
    return current
