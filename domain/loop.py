"""The case loop, written once: what a case does next.

A case lives by one loop. Inputs (payments, overrides) are taken in the order they come;
between them the case sleeps until its next wake-up (`domain.case.next_wakeup`: a
calendar rule or a planned contact attempt), and a wake-up runs the calendar rules due,
then makes every contact attempt due at that moment, one after the other, each seeing the
outcome of the last.

`next_move` says which of these comes next, and `next_attempt` which attempt a wake-up
makes next (none after `MAX_ATTEMPTS_PER_WAKE`: the guard against a plan that never
settles). They do nothing themselves: the workflow carries a move out with activities
and timers (`workflows/case.py`), the simulator with direct calls
(`domain/simulation.py`), and each asks again after every move. So the order of things,
the horizon and the guards are written here and nowhere else, and the live case and its
simulation cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Literal, NamedTuple

from pydantic import BaseModel, ConfigDict

from domain.case import decide_with_state, next_wakeup, reject_with_state
from domain.commands import AdvanceTime, AnyCommand, Command, ReceivePayment, RecordContactAttempt
from domain.contact import PlannedContact, first_due
from domain.errors import OverrideRejected
from domain.events import Event, Outcome
from domain.policy import Policy
from domain.state import CaseState

#: The most contact attempts one wake-up may make. The plan settles after a handful (one
#: per track); more means a plan that keeps proposing attempts for the same moment, a
#: defect that must stop the loop rather than dial without end.
MAX_ATTEMPTS_PER_WAKE = 200


class LoopDidNotSettle(RuntimeError):
    """A wake-up kept finding contact attempts due (see `MAX_ATTEMPTS_PER_WAKE`)."""


class Input(BaseModel):
    """An input at its business time: a scripted payment or override, or one that came in."""

    model_config = ConfigDict(frozen=True)

    at: datetime
    command: AnyCommand


class TakeInput(NamedTuple):
    """Apply the first input: a queued one (it came in; at `now`) or a scripted one (at
    its own time, a refused override recorded instead of raised: `decide_scripted`)."""

    at: datetime
    scripted: bool


class RunCalendar(NamedTuple):
    """Wake up at `at`: the calendar rules due by then run, then the contact attempts due
    then are made one by one (`next_attempt`), all at `at`."""

    at: datetime


class WaitUntil(NamedTuple):
    """Nothing is due: sleep until `at` (None: until an input comes)."""

    at: datetime | None


class Stop(NamedTuple):
    """The loop is over: the case closed, or a simulation reached its horizon."""

    why: Literal["closed", "horizon"]


Move = TakeInput | RunCalendar | WaitUntil | Stop

_CLOSED = Stop("closed")
_HORIZON = Stop("horizon")
_FOREVER = WaitUntil(None)
_NO_TOLERANCE = timedelta(0)


def next_move(
    state: CaseState,
    policy: Policy,
    now: datetime,
    script: Sequence[Input] = (),
    queued: bool = False,
    until: datetime | None = None,
    tolerance: timedelta = _NO_TOLERANCE,
) -> Move:
    """What the case does next at business time `now`, between wake-ups.

    - A queued input (one that came in: a payment, an override) is taken first, at `now`,
      even when the case has closed meanwhile: money received is recorded, as unapplied
      credit on a closed case (`domain.payments`).
    - A closed case does nothing more.
    - Otherwise the next step in time, if it is due by `now` (`tolerance`: a timer that
      fires a hair early is on time), else a wait for it. A scripted input comes before a
      wake-up at the same moment (the wake-up then sees it).
    - `until` is a simulation's horizon: nothing after it happens (live cases have none).

    Asked before every step of every simulated case: its arguments are positional and
    the steps are written out, not delegated (bench/portfolio_sim.py).
    """
    if queued:
        return TakeInput(now, False)
    if state.outcome is not None:  # `state.closed`, without the property call
        return _CLOSED
    wake = next_wakeup(state, policy)
    scripted = bool(script) and (wake is None or script[0].at <= wake)
    at = script[0].at if scripted else wake
    if at is None:
        return _HORIZON if until is not None else _FOREVER
    if until is not None and at > until:
        return _HORIZON
    if at > now + tolerance:
        return WaitUntil(at)
    return TakeInput(at, True) if scripted else RunCalendar(at)


def next_attempt(
    state: CaseState, at: datetime, made: int, policy: Policy
) -> PlannedContact | None:
    """The next contact attempt of the wake-up at `at`, which has made `made` attempts
    (its calendar rules ran first); None when the wake-up is over."""
    if state.outcome is not None:  # `state.closed`, without the property call
        return None
    planned = first_due(state, at, policy)
    if planned is not None and made >= MAX_ATTEMPTS_PER_WAKE:
        raise LoopDidNotSettle(f"contact plan did not settle at {at}")
    return planned


def attempt_key(case_id: str, seq: int) -> str:
    """The idempotency key of the contact attempt that will be event `seq` of a case: the
    provider is asked once per key, however often the attempt is retried."""
    return f"{case_id}/{seq}"


#: `RecordContactAttempt(**report)`, validated by the same validator without the call
#: through `BaseModel.__init__` (half the cost; every simulated attempt makes one).
_validated_attempt = RecordContactAttempt.__pydantic_validator__.validate_python


def attempt_made(
    planned: PlannedContact,
    outcome: Outcome,
    collector_ids: tuple[str, ...] = (),
    recording_ref: str | None = None,
    provider_ref: str | None = None,
) -> RecordContactAttempt:
    """The command that records the `planned` attempt as its provider reported it."""
    attempt: RecordContactAttempt = _validated_attempt(
        {
            "channel": planned.channel,
            "target": planned.target,
            "line": planned.line,
            "contact_index": planned.contact_index,
            "planned_at": planned.planned_at,
            "outcome": outcome,
            "collector_ids": collector_ids,
            "recording_ref": recording_ref,
            "provider_ref": provider_ref,
        }
    )
    return attempt


def decide_scripted(
    state: CaseState, command: Command, now: datetime, policy: Policy
) -> list[Event]:
    """`decide` for scripted inputs: a refused override is recorded as
    `override_rejected` (the timeline shows what was asked and why it was refused)
    instead of failing the run."""
    return decide_scripted_with_state(state, command, now, policy)[0]


def decide_scripted_with_state(
    state: CaseState, command: Command, now: datetime, policy: Policy
) -> tuple[list[Event], CaseState]:
    """`decide_scripted`, and the state its events lead to (see `decide_with_state`)."""
    try:
        return decide_with_state(state, command, now, policy)
    except OverrideRejected as error:
        assert not isinstance(command, (AdvanceTime, ReceivePayment, RecordContactAttempt))
        return reject_with_state(state, command, error, now, policy)  # type: ignore[arg-type]
