"""Driving a case through time the way the workflow does, for the contact, override and
property tests (the shared builders live in `conftest.py`).

`drive` repeats the workflow's loop with the domain's own functions only (`next_wakeup`,
`decide` through `CaseRun.apply`, `contact.due`): wake, let the calendar run, make every
contact attempt that is due, and feed its scripted outcome back as an input.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime

from domain.case import next_wakeup
from domain.commands import AdvanceTime, RecordContactAttempt
from domain.contact import PlannedContact, due
from domain.events import ContactAttempted, Event, Outcome
from domain.localtime import zone
from domain.simulation import CaseRun

OutcomeOf = Callable[[PlannedContact], Outcome]

_MAX_WAKES = 5_000
_MAX_ATTEMPTS_PER_MOMENT = 50


def always(outcome: Outcome) -> OutcomeOf:
    """Every attempt ends the same way."""
    return lambda _planned: outcome


def by_channel(default: Outcome = "no_answer", **channels: Outcome) -> OutcomeOf:
    """Outcomes by channel (`sms="delivered"`), `default` for the others."""
    return lambda planned: channels.get(planned.channel, default)


def scripted(outcomes: Iterable[Outcome], then: Outcome = "no_answer") -> OutcomeOf:
    """The given outcomes for the first attempts, in order, then `then` for the rest."""
    queue = list(outcomes)
    return lambda _planned: queue.pop(0) if queue else then


def by_line(lines: Mapping[str, Outcome], default: Outcome = "no_answer") -> OutcomeOf:
    """Debtor calls end by the phone line dialled; everything else ends with `default`."""
    return lambda planned: lines.get(planned.line or "", default)


def wake(run: CaseRun, now: datetime, outcome_of: OutcomeOf) -> list[Event]:
    """One wake-up at `now`: the calendar runs, then every attempt due at `now` is made
    (a call with a recording reference, a visit by two collectors: POLICY §5)."""
    start = len(run.events)
    run.apply(AdvanceTime(), now)
    for _ in range(_MAX_ATTEMPTS_PER_MOMENT):
        attempts_due = due(run.state, now, run.policy)
        if not attempts_due or run.state.closed:
            return run.events[start:]
        planned = attempts_due[0]
        run.apply(attempt(planned, outcome_of(planned), run.state.seq), now)
    raise AssertionError(f"the contact plan did not settle at {now}")


def attempt(planned: PlannedContact, outcome: Outcome, seq: int = 0) -> RecordContactAttempt:
    """The report of the planned attempt, ending with `outcome`."""
    return RecordContactAttempt(
        channel=planned.channel,
        target=planned.target,
        line=planned.line,
        contact_index=planned.contact_index,
        planned_at=planned.planned_at,
        outcome=outcome,
        recording_ref=f"rec-{seq}" if planned.channel == "call" else None,
        collector_ids=("field-1", "field-2") if planned.channel == "visit" else (),
    )


def drive(
    run: CaseRun,
    until: datetime,
    outcome_of: OutcomeOf | None = None,
    *,
    since: datetime | None = None,
) -> list[Event]:
    """Run the case up to `until` (inclusive), waking whenever the policy asks to.

    `since`: business time the caller already reached without an event (a wake-up that
    had nothing to do). Returns the events produced. Business time ends at `until`, so
    every calendar rule due by then has run, as in the workflow.
    """
    outcome_of = outcome_of or always("no_answer")
    start = len(run.events)
    clock = since
    for _ in range(_MAX_WAKES):
        if run.state.closed:
            break
        moment = next_wakeup(run.state, run.policy, clock)
        if moment is None or moment > until:
            if run.state.as_of is None or run.state.as_of < until:
                run.apply(AdvanceTime(), until)
            break
        wake(run, moment, outcome_of)
        clock = moment
    else:
        raise AssertionError(f"the case kept waking before {until}")
    return run.events[start:]


def attempts(events: Iterable[Event]) -> list[ContactAttempted]:
    return [e for e in events if isinstance(e, ContactAttempted)]


def calls_to_debtor(events: Iterable[Event]) -> list[ContactAttempted]:
    return [e for e in attempts(events) if e.channel == "call" and e.target == "debtor"]


def local(moment: datetime, tz: str) -> str:
    """`moment` as local wall time in `tz`, 'YYYY-MM-DD HH:MM', for readable assertions."""
    return moment.astimezone(zone(tz)).strftime("%Y-%m-%d %H:%M")
