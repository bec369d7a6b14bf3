"""The case loop's decisions (`domain.loop`): what a case does next, and its guards.

The workflow and the simulator only carry these moves out; that they then give the same
timelines is tests/workflows/test_equivalence.py's claim.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.case import next_wakeup
from domain.commands import ReceivePayment
from domain.loop import (
    MAX_ATTEMPTS_PER_WAKE,
    Input,
    LoopDidNotSettle,
    RunCalendar,
    Stop,
    TakeInput,
    WaitUntil,
    next_attempt,
    next_move,
)
from domain.simulation import CaseRun
from tests.domain.casework import always, wake
from tests.domain.conftest import D, bank_time, pay

SECOND = timedelta(seconds=1)


def payment_at(run: CaseRun, offset: timedelta) -> Input:
    at = next_wakeup(run.state, run.policy)
    assert at is not None
    return Input(at=at + offset, command=ReceivePayment(reference="S-1", amount=D("10.00")))


def test_a_queued_input_is_taken_first_at_now_even_when_the_case_has_closed(
    case: CaseRun,
) -> None:
    now = bank_time("2026-03-02", 9)
    pay(case, case.state.total, now)
    assert case.state.closed
    # money that came in is recorded (as unapplied credit), not dropped with the loop
    assert next_move(case.state, case.policy, now, queued=True) == TakeInput(now, False)
    assert next_move(case.state, case.policy, now) == Stop("closed")


def test_a_scripted_input_comes_before_a_wake_up_at_the_same_moment(case: CaseRun) -> None:
    wake_at = next_wakeup(case.state, case.policy)
    assert wake_at is not None
    same_moment = [payment_at(case, timedelta(0))]
    later = [payment_at(case, SECOND)]
    assert next_move(case.state, case.policy, wake_at, same_moment) == TakeInput(wake_at, True)
    assert next_move(case.state, case.policy, wake_at, later) == RunCalendar(wake_at)


def test_a_step_not_yet_due_is_waited_for_and_a_timer_a_hair_early_is_on_time(
    case: CaseRun,
) -> None:
    wake_at = next_wakeup(case.state, case.policy)
    assert wake_at is not None
    early = wake_at - SECOND
    assert next_move(case.state, case.policy, early) == WaitUntil(wake_at)
    assert next_move(case.state, case.policy, early, tolerance=SECOND) == RunCalendar(wake_at)


def test_a_simulation_stops_at_its_horizon_with_the_later_input_left_unapplied(
    case: CaseRun,
) -> None:
    script = [payment_at(case, -SECOND)]
    horizon = script[0].at - SECOND
    assert next_move(case.state, case.policy, horizon, script, until=horizon) == Stop("horizon")
    # a live case (no horizon) waits for it instead
    assert next_move(case.state, case.policy, horizon, script) == WaitUntil(script[0].at)


def test_a_wake_up_makes_the_attempts_due_at_its_moment_and_then_ends(case: CaseRun) -> None:
    wake_at = next_wakeup(case.state, case.policy)
    assert wake_at is not None
    planned = next_attempt(case.state, wake_at, 0, case.policy)
    assert planned is not None and planned.planned_at <= wake_at
    wake(case, wake_at, always("delivered"))
    assert next_attempt(case.state, wake_at, 1, case.policy) is None


def test_a_wake_up_that_keeps_finding_attempts_due_stops_the_loop(case: CaseRun) -> None:
    wake_at = next_wakeup(case.state, case.policy)
    assert wake_at is not None
    with pytest.raises(LoopDidNotSettle):
        next_attempt(case.state, wake_at, MAX_ATTEMPTS_PER_WAKE, case.policy)
    # the guard counts attempts still to make: a wake-up that has settled just ends
    wake(case, wake_at, always("delivered"))
    assert next_attempt(case.state, wake_at, MAX_ATTEMPTS_PER_WAKE, case.policy) is None
