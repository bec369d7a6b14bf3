"""The case as a decider: `decide(state, command, now, policy) -> events`, `evolve`, `fold`.

`decide` first runs every calendar rule due up to `now` (so a payment at noon lands after
the statement issued at midnight), then the command. It never mutates its input and
reads no clock: the same inputs always give the same events, in the live workflow, in
`simulate` and in the auditor's rebuild.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import cast

from domain.billing import previous_statement_date
from domain.commands import (
    AdvanceTime,
    Command,
    OpenCase,
    Override,
    ReceivePayment,
    RecordContactAttempt,
)
from domain.contact import check_attempt, next_contact_at
from domain.cycle import follow_bucket, next_due_at, refresh_bucket, run_due
from domain.decision import Decision
from domain.errors import DomainError, OverrideRejected, check
from domain.events import CaseOpened, ContactAttempted, Event, HoldStarted
from domain.events import OverrideRejected as OverrideRejectedEvent
from domain.evolve import evolve, fold
from domain.overrides import apply_override, check_override
from domain.payments import receive_payment
from domain.policy import Policy
from domain.state import CaseState

__all__ = [
    "check_forward",
    "decide",
    "decide_with_state",
    "evolve",
    "fold",
    "next_wakeup",
    "reject",
    "reject_with_state",
]


def decide(state: CaseState, command: Command, now: datetime, policy: Policy) -> list[Event]:
    """The events that `command` at business time `now` causes. Raises `DomainError`
    (for overrides `OverrideRejected`) when a rule refuses it; then nothing happened.

    Events carry `now` in UTC, whatever zone the caller wrote it in: local dates and
    clocks are always derived through an explicit zone, and durations between instants
    then do not depend on the representation (see `domain.contact`)."""
    return decide_with_state(state, command, now, policy)[0]


def decide_with_state(
    state: CaseState, command: Command, now: datetime, policy: Policy
) -> tuple[list[Event], CaseState]:
    """`decide`, and the state its events lead to: `fold(events, state)`.

    The decider evolves its own state as it emits (`Decision.emit`), so that state is
    already at hand; a caller that keeps a running state (the simulation loop, the
    workflow) takes it instead of evolving every event a second time. It is equal to
    `fold(events, state)` by construction (the same `evolve` over the same events)."""
    now = check_forward(state, now)
    d = Decision(state, now, policy)
    # Dispatched on the exact class, the commonest first (attempts, wake-ups, payments,
    # then overrides): a command class has no subclasses, and `isinstance` (or a `match`
    # class pattern) on a pydantic class goes through `ABCMeta`, several times slower,
    # on every decision of every case (bench/portfolio_sim.py).
    kind = type(command)
    if kind is OpenCase:
        _open(d, cast(OpenCase, command))
        run_due(d)
        return d.events, d.state
    if not state.opened:
        raise DomainError("case_open", "there is no such case")
    run_due(d)
    if kind is RecordContactAttempt:
        _record_contact(d, cast(RecordContactAttempt, command))
    elif kind is AdvanceTime:
        pass
    elif kind is ReceivePayment:
        receive_payment(d, cast(ReceivePayment, command))
    else:
        override = cast(Override, command)
        check_override(d.state, override, now, policy)
        apply_override(d, override)
    return d.events, d.state


def check_forward(state: CaseState, now: datetime) -> datetime:
    """`now` in UTC, refused when it has no zone or lies before the case's last event:
    business time only runs forward. The guard every decision passes first."""
    # Written as `if ... raise` (what `check` does) so that the passing case, run on
    # every decision, builds no arguments for a refusal.
    if now.tzinfo is None:
        raise DomainError("time", "`now` must carry a time zone", now=now)
    now = now.astimezone(UTC)
    if state.as_of is not None and now < state.as_of:
        raise DomainError("time_runs_forward", "time cannot go back", now=now, as_of=state.as_of)
    return now


def _utc(now: datetime) -> datetime:
    """`now` in UTC; a naive `now` is left for `Decision` to refuse."""
    return now.astimezone(UTC) if now.tzinfo is not None else now


def next_wakeup(state: CaseState, policy: Policy, now: datetime | None = None) -> datetime | None:
    """When the case next needs to run: a calendar rule or a planned contact attempt.

    A caller that woke at `now` with nothing to do (no event moved the state on) passes
    `now`: the answer is then never before it, so a wake-up outside the contact window
    is followed by the window's next opening, not by the overdue moment again.
    """
    calendar = next_due_at(state, policy)
    if calendar is not None and now is not None:
        calendar = max(calendar, now)
    contact = next_contact_at(state, policy, now)
    if calendar is None or contact is None:
        return contact if calendar is None else calendar
    return contact if contact < calendar else calendar  # `min`: the calendar on a tie


def _open(d: Decision, command: OpenCase) -> None:
    check(not d.state.opened, "case_exists", "the case is already open")
    today = d.bank_date()
    account = command.account
    check(
        command.oldest_unpaid_due_date < today,
        "placement",
        "the oldest unpaid due date must be before the day the case opens",
        oldest_unpaid_due_date=command.oldest_unpaid_due_date,
        opened=today,
    )
    total = command.principal + command.interest + command.fees
    check(
        command.unpaid_minimum <= total,
        "placement",
        "the unpaid minimum exceeds the balance",
        unpaid_minimum=command.unpaid_minimum,
        balance=total,
    )
    d.emit(
        CaseOpened,
        account=account,
        policy=d.policy.name,
        principal=command.principal,
        interest=command.interest,
        fees=command.fees,
        oldest_unpaid_due_date=command.oldest_unpaid_due_date,
        unpaid_minimum=command.unpaid_minimum,
        last_statement_date=previous_statement_date(today, account.statement_day),
        accrual_from=today,
        arm=command.arm,
    )
    refresh_bucket(d, d.now)
    follow_bucket(d, d.now)


def _record_contact(d: Decision, c: RecordContactAttempt) -> None:
    """Guards, not plans: an attempt outside the window, during a hold or beyond a contact
    limit is a bug in the caller, and is refused rather than recorded as if it were
    allowed (`domain.contact.check_attempt`)."""
    check_attempt(d.state, c, d.now, d.policy)
    d.emit(
        ContactAttempted,
        channel=c.channel,
        target=c.target,
        outcome=c.outcome,
        planned_at=c.planned_at,
        line=c.line,
        contact_index=c.contact_index,
        collector_ids=c.collector_ids,
        recording_ref=c.recording_ref,
        provider_ref=c.provider_ref,
    )
    if c.outcome == "dispute" and "dispute" not in d.state.holds:
        d.emit(HoldStarted, kind="dispute")


def reject(
    state: CaseState, override: Override, error: OverrideRejected, now: datetime, policy: Policy
) -> list[Event]:
    """Record a refused override (rule and message) without changing anything else, for
    timelines that show what was asked and why it was refused.

    The calendar rules due by `now` run first, as in `decide` (whose check refused the
    override against that state): otherwise they would follow the rejection with earlier
    times, and the timeline would run backwards."""
    return reject_with_state(state, override, error, now, policy)[0]


def reject_with_state(
    state: CaseState, override: Override, error: OverrideRejected, now: datetime, policy: Policy
) -> tuple[list[Event], CaseState]:
    """`reject`, and the state its events lead to (as `decide_with_state`)."""
    d = Decision(state, _utc(now), policy)
    if state.opened:
        run_due(d)
    d.emit(
        OverrideRejectedEvent,
        override=override.kind,
        actor=override.actor,
        reason=override.reason,
        rule=error.rule,
        message=str(error),
    )
    return d.events, d.state
