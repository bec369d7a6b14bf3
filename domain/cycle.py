"""Rules that run on the calendar (POLICY §2-§4): statements, due dates, charge-off,
promise and plan deadlines, the letter's response window, placement terms, pauses.

`scheduled` lists what is due next, derived from the state alone; `run_due` runs every
item whose time has come, each at its own time, so a late wake-up still produces the
timeline the calendar calls for.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import NamedTuple

from domain.billing import (
    accrual_days,
    add_months,
    cycle_interest,
    due_date,
    late_fee,
    new_minimum,
    next_statement_date,
    over_limit_fee,
)
from domain.decision import Decision, stage_rank
from domain.delinquency import bucket_number, days_past_due, oldest_past_due
from domain.events import (
    BalanceView,
    BucketChanged,
    ChargedOff,
    FeeCharged,
    HoldEnded,
    InterestCharged,
    PlanBroken,
    PromiseBroken,
    StatementIssued,
)
from domain.evolve import contact_steps
from domain.localtime import days, end_of_day, start_of_day
from domain.memo import remember_last
from domain.money import ZERO
from domain.outsourcing import (
    goes_to_legal_on_recall,
    long_aged_reaches_threshold,
    next_regular_hand,
)
from domain.policy import Policy
from domain.state import CaseState


class Scheduled(NamedTuple):
    """A rule due at an instant. `at` is that instant in UTC, for comparing (the loop
    compares schedules with the business time at every step, `domain.localtime`);
    `given` is the same instant as the rule is handed it, in the zone it was written in
    (a bank-local midnight for calendar dates). The zone matters only to the count of
    placement terms kept for cases recorded before 2026-11-25 (`term_calendar =
    "start_zone"`, `domain.outsourcing.term_ends`), which adds the days in the start's
    own zone: those cases must replay exactly as they ran. Tuples sort by `at`, then
    `order`; `given` is never reached."""

    at: datetime
    order: int  # rules due at the same moment run in this order
    rule: str
    given: datetime


def _item(given: datetime, order: int, rule: str) -> Scheduled:
    return Scheduled(given.astimezone(UTC), order, rule, given)


def scheduled(state: CaseState, policy: Policy) -> list[Scheduled]:
    """Every calendar rule pending for this case, earliest first."""
    return list(_schedule(state, policy))


def _compute_schedule(state: CaseState, policy: Policy) -> tuple[Scheduled, ...]:
    """`scheduled`, worked out."""
    if not state.opened or state.outcome is not None:  # `state.closed`, sans property call
        return ()
    assert state.account is not None and state.last_statement_date is not None
    bank = policy.cycle.bank_timezone
    items = [_statement_at(state.last_statement_date, state.account.statement_day, bank)]
    if state.open_due_date is not None and state.settlement is None:
        items.append(_due_date_at(state.open_due_date, bank))
    if not state.charged_off and state.dues:
        charge_off_dpd = policy.delinquency.charge_off_dpd
        items.append(_charge_off_at(state.dues[0].due_date, charge_off_dpd, bank))
    if state.promise is not None:
        items.append(_item(state.promise.pause_until, 3, "promise_deadline"))
    if state.plan is not None:
        items.append(_item(_installment_deadline(state, policy), 4, "installment_deadline"))
    if "pause" in state.holds and state.pause_until is not None:
        items.append(_item(state.pause_until, 5, "pause_end"))
    if state.stage == "letter" and not _answered_since(state, state.stage_entered_at):
        assert state.stage_entered_at is not None
        window = days(policy.stages.letter_response_days)
        items.append(_item(state.stage_entered_at + window, 6, "letter_window"))
    if state.placement is not None:
        items.append(_item(state.placement.term_ends, 7, "placement_term"))
    return tuple(sorted(items))


#: `scheduled` as an immutable tuple, remembered for the last state (`domain.memo`): the
#: loop asks for the same state's schedule in `next_wakeup` and again in `run_due`, and
#: after a contact attempt for a schedule that is still the one before it: an attempt
#: changes contact facts only, which no calendar rule reads (a test checks the claim over
#: whole histories), so the answer is carried over when `new` is the state the last
#: attempt made of `known` (`evolve.contact_steps`; the loop records some four a month).
_schedule = remember_last(_compute_schedule, carried=contact_steps.made)


# The next statement, due date and charge-off are asked for at every read of a schedule,
# and change once a month at most. Pure functions of dates, day counts and a zone name
# (hashable, compared exactly) that return an immutable tuple, so remembering them
# cannot change an answer (as `domain.localtime.start_of_day`). Shared by every case of
# a worker: keys and answers are plain values, no case's state, so nothing passes from
# one case to another; bounded by `maxsize`.


@lru_cache(maxsize=4096)
def _statement_at(last_statement_date: date, statement_day: int, bank: str) -> Scheduled:
    statement = next_statement_date(last_statement_date, statement_day)
    return _item(start_of_day(statement, bank), 0, "statement")


@lru_cache(maxsize=4096)
def _due_date_at(due: date, bank: str) -> Scheduled:
    return _item(end_of_day(due, bank), 1, "due_date")


@lru_cache(maxsize=4096)
def _charge_off_at(oldest_due_date: date, charge_off_dpd: int, bank: str) -> Scheduled:
    charge_off_date = oldest_due_date + days(charge_off_dpd)
    return _item(start_of_day(charge_off_date, bank), 2, "charge_off")


def next_due_at(state: CaseState, policy: Policy) -> datetime | None:
    items = _schedule(state, policy)
    return items[0].at if items else None


def calendar_due(state: CaseState, now: datetime, policy: Policy) -> bool:
    """Whether a calendar rule is due at or before `now` (`run_due` would run one)."""
    items = _schedule(state, policy)
    return bool(items) and items[0].at <= now


def run_due(decision: Decision) -> None:
    """Run, in time order, every scheduled rule due at or before `decision.now`.

    A rule already overdue when the case learns of it (a case placed beyond 180 DPD is
    charged off as it opens) runs at the case's latest event time, never before it:
    a timeline never goes back in time."""
    now, policy = decision.now, decision.policy
    while (items := _schedule(decision.state, policy)) and items[0].at <= now:  # calendar_due
        item = items[0]
        as_of = decision.state.as_of
        # `max(item, as_of)`, compared in UTC, handing over the rule's own instant
        at = as_of if as_of is not None and as_of > item.at else item.given
        _RULES[item.rule](decision, at)


def refresh_bucket(d: Decision, at: datetime) -> None:
    """Recompute M_n and DPD for the bank date of `at`; record a change of bucket."""
    state = d.state
    assert state.account is not None
    today = d.bank_date(at)
    oldest = oldest_past_due(state.dues, today)
    n = min(
        bucket_number(oldest, today, state.account.statement_day), d.policy.delinquency.top_bucket
    )
    if n != state.bucket:
        d.emit(
            BucketChanged,
            at,
            bucket=d.label(n),
            previous=d.label(state.bucket),
            dpd=days_past_due(oldest, today),
            oldest_unpaid_due_date=oldest,
        )


def follow_bucket(d: Decision, at: datetime) -> None:
    """POLICY §3: enter the stage the bucket calls for; a stage never moves back."""
    ladder = d.policy.stages.stage_by_bucket
    target = ladder[min(d.state.bucket, max(ladder))]
    if stage_rank(target) > stage_rank(d.state.stage):
        d.enter_stage(target, f"bucket {d.label(d.state.bucket)}", at)


def _statement(d: Decision, at: datetime) -> None:
    """POLICY §2.1-2.3 at S_k: interest, over-limit fee, the statement and its minimum.

    Once a settlement is agreed (POLICY §6) the amount agreed is what is owed: nothing
    more is charged on it (here or at the due date), so paying it settles the case."""
    state = d.state
    assert state.account is not None and state.last_statement_date is not None
    statement = next_statement_date(state.last_statement_date, state.account.statement_day)
    if state.settlement is None:
        _cycle_charges(d, at, statement)
    s = d.state
    total, earlier = s.total, s.minimum_due_total
    minimum = new_minimum(total, d.policy.cycle.minimum_payment_rate, earlier)
    d.emit(
        StatementIssued,
        at,
        statement_date=statement,
        due_date=due_date(statement, state.account.grace_days),
        balance=_balance_view(
            {"principal": s.principal, "interest": s.interest, "fees": s.fees, "total": total}
        ),
        minimum=minimum,
        minimum_due_total=earlier + minimum,
    )
    refresh_bucket(d, at)
    follow_bucket(d, at)
    placement = d.state.placement
    if placement and long_aged_reaches_threshold(
        placement.hand, d.state.total, d.policy.legal.threshold
    ):
        d.refer_to_legal("long_aged_threshold", at)


def _cycle_charges(d: Decision, at: datetime, statement: date) -> None:
    """POLICY §2.1-2.2: the cycle's interest up to `statement`, then the over-limit fee
    on the balance that includes it."""
    state = d.state
    assert state.account is not None and state.accrual_from is not None
    assert state.last_statement_date is not None
    cycle = d.policy.cycle
    days = accrual_days(max(state.accrual_from, state.last_statement_date), statement)
    bearing = state.principal + state.interest
    interest = cycle_interest(bearing, days, cycle.daily_interest_rate)
    if interest > 0:
        d.emit(InterestCharged, at, amount=interest, days=days, interest_bearing=bearing)
    limit = state.account.credit_limit
    fee = over_limit_fee(
        d.state.total, limit, cycle.over_limit_fee_rate, cycle.over_limit_fee_minimum
    )
    if fee > 0:
        d.emit(FeeCharged, at, kind="over_limit", amount=fee, basis=d.state.total - limit)


#: `BalanceView(**fields)` by its validator, without the call through `BaseModel.__init__`
#: (as `Decision.emit` builds events).
_balance_view = BalanceView.__pydantic_validator__.validate_python


def _due_date(d: Decision, at: datetime) -> None:
    """POLICY §2 at D_k: a late fee on the minimum left unpaid (all cycles together)."""
    state = d.state
    assert state.open_due_date is not None
    unpaid = sum((x.amount for x in state.dues if x.due_date <= state.open_due_date), ZERO)
    cycle = d.policy.cycle
    fee = late_fee(unpaid, cycle.late_fee_rate, cycle.late_fee_minimum)
    d.emit(FeeCharged, at, kind="late", amount=fee, basis=unpaid)


def _charge_off(d: Decision, at: datetime) -> None:
    """POLICY §2: charged off at 180 DPD; a case that arrives later is at its real DPD."""
    today = d.bank_date(at)
    dpd = days_past_due(oldest_past_due(d.state.dues, today), today)
    d.emit(ChargedOff, at, dpd=dpd, balance=d.state.total)


def _promise_deadline(d: Decision, at: datetime) -> None:
    """POLICY §6: not paid by the date + grace: broken, and the case resumes."""
    promise = d.state.promise
    assert promise is not None
    d.emit(PromiseBroken, at, amount=promise.amount, paid=promise.paid)


def _installment_deadline(state: CaseState, policy: Policy) -> datetime:
    assert state.plan is not None
    number = state.plan.installments_paid + 1
    due = add_months(state.plan.first_due, number - 1)
    return end_of_day(due + days(policy.promises.grace_days), policy.cycle.bank_timezone)


def _installment_missed(d: Decision, at: datetime) -> None:
    """POLICY §6: a missed installment breaks the plan and the case resumes."""
    plan = d.state.plan
    assert plan is not None
    number = plan.installments_paid + 1
    d.emit(PlanBroken, at, number=number, paid=plan.paid, due=plan.installment_amount * number)


def _pause_end(d: Decision, at: datetime) -> None:
    d.emit(HoldEnded, at, kind="pause")


def _letter_window(d: Decision, at: datetime) -> None:
    """POLICY §3 M3: no payment and no promise within 10 days of the letter: visit."""
    d.enter_stage("visit", "no response to demand letter", at)


def _placement_term(d: Decision, at: datetime) -> None:
    """POLICY §4: at the end of the term an uncured case is recalled and placed again
    at the next hand, or referred to legal from the third hand at the threshold."""
    placement = d.state.placement
    assert placement is not None
    d.recall("term_ended", at)
    if goes_to_legal_on_recall(placement.hand, d.state.total, d.policy.legal.threshold):
        d.refer_to_legal("threshold", at)
    else:
        d.place(next_regular_hand(d.state.regular_hands), at)


def _answered_since(state: CaseState, since: datetime | None) -> bool:
    if since is None:
        return False
    return any(t is not None and t >= since for t in (state.last_payment_at, state.last_promise_at))


_RULES: dict[str, Callable[[Decision, datetime], None]] = {
    "statement": _statement,
    "due_date": _due_date,
    "charge_off": _charge_off,
    "promise_deadline": _promise_deadline,
    "installment_deadline": _installment_missed,
    "pause_end": _pause_end,
    "letter_window": _letter_window,
    "placement_term": _placement_term,
}
