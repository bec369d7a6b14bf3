"""The decider's shortcuts (bench/portfolio_sim.py) answer exactly as the long way round.

Each shortcut is checked against the computation it replaces, over whole case histories:
the shipped scenarios (holds, promises, legal, placements; both policy profiles) and a
year of seeded debtors on varied accounts (calls, payments, statements, charge-off).
- `decide_with_state`: its state is `fold` of its events, and its events are `decide`'s;
- `calendar_due`: when it says no, `AdvanceTime` decides nothing (`CaseRun.wake`);
- `evolve._updated`: the same instance `dataclasses.replace` makes;
- the remembered plan and schedule: the same as computed afresh, and never shared;
- `bucket_number`: the same count as stepping from statement date to statement date.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import fields, replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arrears.policies import load_policy
from arrears.simulate.scenario import load_scenario
from domain import contact_plan, cycle
from domain.billing import next_statement_date
from domain.case import decide, decide_with_state
from domain.commands import AdvanceTime
from domain.contact import plan
from domain.cycle import scheduled
from domain.delinquency import bucket_number
from domain.events import ContactAttempted
from domain.evolve import _HANDLERS, _updated, evolve, fold
from domain.intake import open_case
from domain.localtime import end_of_day, start_of_day
from domain.memo import LastStep, remember_last
from domain.placement import case_id_for
from domain.policy import Policy
from domain.portfolio import Debtor
from domain.simulation import CaseRun, drive, horizon, scripted_inputs
from domain.state import CaseState, ContactRecord
from tests.domain.conftest import STATE_JSON, make_row

SCENARIOS = sorted((Path(__file__).parents[1] / "scenarios").glob("*.json"))
START = date(2026, 3, 1)


def scenario_run(path: Path) -> CaseRun:
    scenario = load_scenario(path)
    policy = load_policy(scenario.profile)
    run = CaseRun(policy, case_id_for(scenario.account.account_id))
    run.apply(open_case(scenario.account), start_of_day(scenario.start, policy.cycle.bank_timezone))
    outcomes = scenario.contact_outcomes.for_attempt
    drive(run, scripted_inputs(scenario, policy), horizon(scenario, policy), outcomes)
    return run


def debtor_run(profile: str, n: int) -> CaseRun:
    """A year of one seeded debtor (as `simulate --portfolio`) on an account varied by `n`."""
    policy = load_policy(profile)
    row = make_row(
        account_id=f"FAST-{n:03d}",
        home_phone="01088888888" if n % 2 else None,
        work_phone="02188888888" if n % 3 == 0 else None,
        home_address="1 Home Road" if n % 2 == 0 else None,
        work_address="2 Office Street" if n % 4 < 2 else None,
        contacts="A:friend:+8613800000011;B:parent:+8613800000012" if n % 3 else "",
        timezone=("Asia/Shanghai", "America/New_York", "Asia/Urumqi")[n % 3],
        principal=f"{3000 + 7919 * n % 90000}.00",
        oldest_unpaid_due_date=(START - timedelta(days=(5, 40, 95, 200)[n % 4])).isoformat(),
    )
    debtor = Debtor(n, row.account_id, policy)
    run = CaseRun(policy, row.case_id)
    run.apply(open_case(row), start_of_day(START, policy.cycle.bank_timezone))
    drive(run, [], start_of_day(date(2027, 3, 1), policy.cycle.bank_timezone), debtor.reply,
          debtor.react)  # fmt: skip
    return run


def histories() -> Iterator[CaseRun]:
    for path in SCENARIOS:
        yield scenario_run(path)
    for profile in ("cn-card", "us-reg-f"):
        for n in range(12):
            yield debtor_run(profile, n)


@pytest.fixture(scope="module")
def runs() -> list[CaseRun]:
    found = list(histories())
    kinds = {e.type for run in found for e in run.events}
    assert len(found) == len(SCENARIOS) + 24 and len(kinds) >= 20, sorted(kinds)
    return found


def states(run: CaseRun) -> Iterator[CaseState]:
    """Every state of the case, from the empty one, rebuilt event by event."""
    state = CaseState()
    yield state
    for event in run.events:
        state = evolve(state, event)
        yield state


def test_the_runs_state_is_the_fold_of_its_events(runs: list[CaseRun]) -> None:
    for run in runs:
        assert fold(run.events) == run.state


def test_decide_with_state_gives_decides_events_and_their_fold(runs: list[CaseRun]) -> None:
    for run in runs:
        rebuilt = list(states(run))
        for state, event in zip(rebuilt, run.events, strict=False):
            if not state.opened or state.closed:
                continue
            later = max(event.at, state.as_of) if state.as_of else event.at
            events, after = decide_with_state(state, AdvanceTime(), later, run.policy)
            assert events == decide(state, AdvanceTime(), later, run.policy)
            assert after == fold(events, state)


def test_a_wake_up_with_no_calendar_rule_due_would_decide_nothing(runs: list[CaseRun]) -> None:
    """`CaseRun.wake` skips the `AdvanceTime` decision when `calendar_due` says no: that
    is safe only while advancing time does nothing but run the calendar rules due."""
    skipped = ran = 0
    for run in runs:
        rebuilt = list(states(run))
        for state, event in zip(rebuilt, run.events, strict=False):
            if not state.opened or state.closed or state.as_of is None:
                continue
            calendar = cycle.next_due_at(state, run.policy)
            moments = [state.as_of, max(event.at, state.as_of)]
            if calendar is not None:
                before = calendar - timedelta(seconds=1)
                moments += [max(before, state.as_of), max(calendar, state.as_of)]
            for moment in moments:
                events, after = decide_with_state(state, AdvanceTime(), moment, run.policy)
                if cycle.calendar_due(state, moment, run.policy):
                    ran += 1
                    assert events
                else:
                    skipped += 1
                    assert events == [] and after is state
    assert skipped > 1000 and ran > 100, (skipped, ran)


def test_updated_makes_what_dataclasses_replace_makes(runs: list[CaseRun]) -> None:
    for run in runs:
        for state, event in zip(states(run), run.events, strict=False):
            changes = {**_HANDLERS[type(event)](state, event), "seq": event.seq, "as_of": event.at}
            fast, slow = _updated(state, dict(changes)), replace(state, **changes)
            assert type(fast) is type(slow)
            assert list(fast.__dict__.items()) == list(slow.__dict__.items())
            assert STATE_JSON.dump_json(fast) == STATE_JSON.dump_json(slow)


def test_contact_records_are_the_ones_their_class_makes(runs: list[CaseRun]) -> None:
    made = 0
    for run in runs:
        for record in fold(run.events).recent_contacts:
            slow = ContactRecord(**{f.name: getattr(record, f.name) for f in fields(record)})
            assert type(record) is ContactRecord
            assert list(record.__dict__.items()) == list(slow.__dict__.items())
            made += 1
    assert made > 50


def test_remembered_plans_and_schedules_are_computed_afresh_equal(
    runs: list[CaseRun],
) -> None:
    for run in runs:
        for state in states(run):
            fresh_plan = list(contact_plan._plan.__wrapped__(state, run.policy, None))
            assert [p.planned_at for p in plan(state, run.policy)] == [
                p.planned_at for p in fresh_plan
            ]
            fresh = list(cycle._compute_schedule(state, run.policy))
            assert scheduled(state, run.policy) == fresh


def test_a_contact_attempt_leaves_the_schedule_as_it_was(runs: list[CaseRun]) -> None:
    attempts = 0
    for run in runs:
        for before, event in zip(states(run), run.events, strict=False):
            if isinstance(event, ContactAttempted):
                after = evolve(before, event)
                assert cycle._compute_schedule(after, run.policy) == cycle._compute_schedule(
                    before, run.policy
                )
                attempts += 1
    assert attempts > 100  # the histories do make attempts, on every track


def test_a_schedule_taken_over_from_the_state_before_an_attempt_is_the_computed_one(
    runs: list[CaseRun],
) -> None:
    run = runs[-1]
    for before, event in zip(states(run), run.events, strict=False):
        scheduled(before, run.policy)  # remembered
        after = evolve(before, event)  # an attempt hands it on; any other event does not
        assert scheduled(after, run.policy) == list(cycle._compute_schedule(after, run.policy))


def test_remembered_answers_are_handed_out_as_fresh_lists(runs: list[CaseRun]) -> None:
    run = next(r for r in runs if plan(r.state, r.policy) and scheduled(r.state, r.policy))
    first_plan, first_schedule = plan(run.state, run.policy), scheduled(run.state, run.policy)
    first_plan.clear()
    first_schedule.clear()
    assert plan(run.state, run.policy) and scheduled(run.state, run.policy)


def test_remember_last_answers_again_only_for_the_very_same_arguments() -> None:
    calls: list[tuple[object, ...]] = []

    @remember_last
    def double(x: object, y: object) -> tuple[object, object]:
        calls.append((x, y))
        return (x, y)

    a, b = Decimal("1.50"), Decimal("1.50")  # equal, not the same object
    assert double(a, None) == (a, None)
    assert double(a, None) == (a, None)
    assert len(calls) == 1
    double(b, None)  # equal is not enough: computed again
    double(a, None)  # and the entry it replaced is gone
    assert len(calls) == 3
    with pytest.raises(TypeError):
        double(a, y=None)  # positional only: no keyword spelling of the same call
    assert len(calls) == 3


def test_remember_last_carries_an_answer_over_only_where_the_caller_says_it_holds() -> None:
    calls: list[object] = []

    def pair(x: object, y: object) -> tuple[object, object]:
        calls.append(x)
        return (x, y)

    a, b, c, policy = object(), object(), object(), object()
    remembered = remember_last(pair, carried=lambda known, new: (known, new) == (a, b))
    first = remembered(a, policy)
    assert remembered(b, policy) is first  # b was made from a by a change `pair` ignores
    assert calls == [a]
    remembered(c, policy)  # not carried from b: computed
    remembered(b, object())  # the other argument differs: computed
    assert calls == [a, c, b]
    with pytest.raises(TypeError, match="two parameters"):
        remember_last(lambda x, y, z: x, carried=lambda known, new: True)


def test_remember_last_takes_only_two_or_three_plain_parameters() -> None:
    def one(x: object) -> object:
        return x

    def defaulted(x: object, y: object = None) -> object:
        return x

    for fn in (one, defaulted):
        with pytest.raises(TypeError, match="two or three plain parameters"):
            remember_last(fn)


def test_a_state_equal_to_the_last_but_another_object_gets_its_own_plan() -> None:
    policy = Policy()
    run = CaseRun(policy)
    run.apply(open_case(make_row()), start_of_day(START, policy.cycle.bank_timezone))
    twin = replace(run.state)
    assert twin == run.state and twin is not run.state
    assert plan(twin, policy) == plan(run.state, policy)
    assert scheduled(twin, policy) == scheduled(run.state, policy)


def _stepped_count(oldest: date | None, today: date, statement_day: int) -> int:
    """The count `bucket_number` used to make, one statement date at a time."""
    if oldest is None:
        return 0
    count, statement = 0, next_statement_date(oldest, statement_day)
    while statement <= today:
        count, statement = count + 1, next_statement_date(statement, statement_day)
    return count


@given(
    st.one_of(st.none(), st.dates(date(2020, 1, 1), date(2030, 12, 31))),
    st.integers(-60, 3000),
    st.integers(1, 28),
)
def test_bucket_number_counts_like_stepping_through_statement_dates(
    oldest: date | None, days_later: int, statement_day: int
) -> None:
    today = (oldest or date(2026, 3, 1)) + timedelta(days=days_later)
    assert bucket_number(oldest, today, statement_day) == _stepped_count(
        oldest, today, statement_day
    )


@pytest.mark.parametrize("statement_day", [0, 29])
def test_bucket_number_still_refuses_a_statement_day_outside_1_to_28(statement_day: int) -> None:
    with pytest.raises(ValueError, match="statement_day"):
        bucket_number(date(2026, 1, 5), date(2026, 6, 1), statement_day)


@pytest.mark.parametrize("tz", ["Asia/Shanghai", "America/New_York", "America/Santiago"])
def test_remembered_day_boundaries_are_the_computed_ones(tz: str) -> None:
    # Santiago's clocks change at midnight: the boundaries are whatever `combine` makes.
    for offset in range(0, 730, 3):
        day = date(2025, 1, 1) + timedelta(days=offset)
        assert start_of_day(day, tz) == start_of_day.__wrapped__(day, tz)
        assert start_of_day(day, tz).utcoffset() == start_of_day.__wrapped__(day, tz).utcoffset()
        assert end_of_day(day, tz) == end_of_day.__wrapped__(day, tz)


def test_a_last_step_answers_only_for_the_very_same_two_objects_and_only_the_last() -> None:
    step = LastStep()
    before, after, later = [1], [2], [3]
    assert not step.made(before, after)
    step.record(before, after)
    assert step.made(before, after)
    assert not step.made([1], [2])  # equal objects of another case are not the same ones
    assert not step.made(after, before)
    step.record(after, later)
    assert step.made(after, later)
    assert not step.made(before, after)  # one entry, replaced whole
