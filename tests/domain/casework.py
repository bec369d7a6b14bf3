"""Driving a case through time the way the workflow does, for the contact, override and
property tests (the shared builders live in `conftest.py`).

`drive` runs the case loop itself (`domain.loop`, carried out by `domain.simulation`),
with contact outcomes chosen by the test. `wake` wakes the case at a moment of the
test's choosing (a late wake-up, say), which the loop itself never does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime

from domain.commands import AdvanceTime, RecordContactAttempt
from domain.contact import PlannedContact
from domain.events import ContactAttempted, Event, Outcome
from domain.localtime import zone
from domain.loop import attempt_made
from domain.simulation import CaseRun, ReplyTo, reply
from domain.simulation import drive as run_loop

OutcomeOf = Callable[[PlannedContact], Outcome]


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
    """One wake-up at `now`, as the loop makes it (`CaseRun.wake`): the calendar runs,
    then every attempt due at `now` is made (a call with a recording reference, a visit
    by two collectors: POLICY §5)."""
    return run.wake(now, _replies(outcome_of))


def _replies(outcome_of: OutcomeOf) -> ReplyTo:
    """A simulated provider whose attempts end as `outcome_of` says."""
    return lambda planned, key: reply(outcome_of(planned), planned, key, "test")


def attempt(planned: PlannedContact, outcome: Outcome, seq: int = 0) -> RecordContactAttempt:
    """The report of the planned attempt, ending with `outcome`."""
    return attempt_made(
        planned,
        outcome,
        collector_ids=("field-1", "field-2") if planned.channel == "visit" else (),
        recording_ref=f"rec-{seq}" if planned.channel == "call" else None,
    )


def drive(run: CaseRun, until: datetime, outcome_of: OutcomeOf | None = None) -> list[Event]:
    """Run the case up to `until` (inclusive) through the case loop itself
    (`domain.simulation.drive`, carrying out `domain.loop`'s moves), each attempt ending
    with `outcome_of`. Returns the events produced. Business time then stands at
    `until`, so every calendar rule due by then has run, as in the workflow.
    """
    start = len(run.events)
    run_loop(run, [], until, _replies(outcome_of or always("no_answer")))
    if not run.state.closed and (run.state.as_of is None or run.state.as_of < until):
        run.apply(AdvanceTime(), until)
    return run.events[start:]


def attempts(events: Iterable[Event]) -> list[ContactAttempted]:
    return [e for e in events if isinstance(e, ContactAttempted)]


def calls_to_debtor(events: Iterable[Event]) -> list[ContactAttempted]:
    return [e for e in attempts(events) if e.channel == "call" and e.target == "debtor"]


def local(moment: datetime, tz: str) -> str:
    """`moment` as local wall time in `tz`, 'YYYY-MM-DD HH:MM', for readable assertions."""
    return moment.astimezone(zone(tz)).strftime("%Y-%m-%d %H:%M")
