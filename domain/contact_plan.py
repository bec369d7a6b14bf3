"""The contact plan (POLICY §3 "what happens", §5): which attempt is due when.

The plan is derived from the state alone: each *track* (reminder SMS, weekly SMS, debtor
calls, third-party calls, demand letters, the field visit) proposes its next attempt
with the earliest time it may happen, always moved into the contact window of the
debtor's zone. Whether an attempt reaches anyone is not decided here: its outcome is an
input (`RecordContactAttempt`).
"""

from __future__ import annotations

from datetime import datetime, time
from functools import lru_cache
from typing import NamedTuple

from domain.contact_rules import (
    calls_required_per_week,
    suppressed,
    unanswered_calls_on,
)
from domain.contact_window import (
    WEEK,
    elapsed,
    in_window,
    utc,
    window_open_and_day,
    window_position,
)
from domain.events import AccountFacts, Channel, PhoneLine, Target
from domain.localtime import days, local_date, utc_at_local, utc_start_of_day
from domain.memo import remember_last
from domain.policy import ContactPolicy, Policy
from domain.state import CaseState, ContactRecord

_CALLING_STAGES = frozenset({"phone", "letter", "visit"})
_CONTACT_STAGES = _CALLING_STAGES | {"reminder"}  # the stages the plan has tracks for


class PlannedContact(NamedTuple):
    """One attempt the policy calls for, not before `planned_at` (an instant in UTC, as
    every instant the plan compares: `domain.localtime`).

    A plain tuple, not a pydantic model: it is made for every track at every step and
    never crosses a boundary (the workflow copies it into the activity's request, which
    is validated), so validating it again would only cost time."""

    channel: Channel
    target: Target
    planned_at: datetime
    purpose: str
    line: PhoneLine | None = None
    contact_index: int | None = None


# --- the plan ---------------------------------------------------------------------------


def plan(state: CaseState, policy: Policy, now: datetime | None = None) -> list[PlannedContact]:
    """The next attempt of every active track, earliest first.

    No attempt is planned before the state's last event, nor before `now` when the caller
    knows that business time has moved on without an event (a wake-up with nothing to do).
    """
    return list(_plan(state, policy, now))


def due(state: CaseState, now: datetime, policy: Policy) -> list[PlannedContact]:
    """The attempts whose time has come at `now`.

    None outside the contact window: a late wake-up (a worker that was down, a payment
    at night) must not dial at `now` an attempt planned for the morning; it waits for
    the next window, as the plan says.
    """
    if first_due(state, now, policy) is None:
        return []
    return [p for p in _plan(state, policy, None) if p.planned_at <= now]


def first_due(state: CaseState, now: datetime, policy: Policy) -> PlannedContact | None:
    """The first of `due`'s attempts, or None: the one a wake-up makes next."""
    if state.account is None:
        return None
    # The plan first (it is in time order): after an attempt nothing more is usually
    # due, and then the window (a conversion to the debtor's zone) need not be asked.
    planned = _plan(state, policy, None)
    if not planned or planned[0].planned_at > now:
        return None
    if not in_window(now, state.account.timezone, policy.contact):
        return None
    return planned[0]


# Shared by every case of a worker, and safe so (`domain.memo`): one entry, a hit only
# for the very same state and policy objects.
@remember_last
def _plan(state: CaseState, policy: Policy, now: datetime | None) -> tuple[PlannedContact, ...]:
    """`plan` as an immutable tuple, remembered for the last state: the loop asks for
    the same state's plan in `next_wakeup` and again in `due` (`domain.memo` says why
    that is safe). Each track proposes its attempt at its earliest time; here it is
    moved into the contact window."""
    if state.stage not in _CONTACT_STAGES or not state.opened or suppressed(state):
        return ()  # the stage first: a case with an agency or the legal team (commonly)
    if state.account is None:
        return ()
    assert state.as_of is not None and state.stage_entered_at is not None
    floor = state.as_of if now is None else max(state.as_of, utc(now))
    # Which tracks a stage has (POLICY §3): the reminder SMS in M0; the letters, the
    # visit, calls or else the weekly SMS, and locate calls in the calling stages; none
    # once the case is with an agency or the legal team. (Each track checks its stage
    # itself too: this only saves asking the ones that cannot propose anything.)
    if state.stage == "reminder":
        proposals = _reminder_sms(state, policy.contact)
    else:
        # A calling stage: its own track (letters, the visit), calls or else the weekly
        # SMS, and locate calls, in this order: proposals due at the same moment keep it.
        proposals = []
        if state.stage == "letter":
            proposals += _letters(state)
        elif state.stage == "visit":
            proposals += _visit(state)
        if _calls_wanted(state, policy):
            proposals += _debtor_calls(state, policy)
        else:
            proposals += _weekly_sms(state, policy)
        proposals += _third_party_calls(state, policy)
    tz, rules = state.account.timezone, policy.contact
    placed = []
    for p in proposals:
        # `window_open_at(max(p.planned_at, floor))`, written out: it runs for every
        # proposal of every state. `p` itself when that is its time already (commonly).
        at = floor if floor > p.planned_at else p.planned_at
        moved = window_position(at, tz, rules.window_start, rules.window_end)[0]
        if moved is not None:
            at = moved
        placed.append(p if at is p.planned_at else p._replace(planned_at=at))
    placed.sort(key=_at)
    return tuple(placed)


def _at(p: PlannedContact) -> datetime:
    return p.planned_at


def next_contact_at(
    state: CaseState, policy: Policy, now: datetime | None = None
) -> datetime | None:
    """When the plan's first attempt is (`plan`'s first time), or None if nothing is."""
    planned = _plan(state, policy, now)
    return planned[0].planned_at if planned else None


def _entered(state: CaseState) -> datetime:
    assert state.stage_entered_at is not None
    return state.stage_entered_at


def _account(state: CaseState) -> AccountFacts:
    assert state.account is not None
    return state.account


def _reminder_sms(state: CaseState, policy: ContactPolicy) -> list[PlannedContact]:
    """M0: an SMS at once (within 24 h of the missed due date, or at the first window
    moment of a case opened later), and again 5 days after the first. No calls."""
    if state.stage != "reminder" or state.stage_sms >= 2:
        return []
    if state.stage_sms == 0:
        when = _entered(state)
    else:
        assert state.last_sms_at is not None
        when = utc(state.last_sms_at) + days(policy.reminder_second_sms_after_days)
    return [PlannedContact("sms", "debtor", when, "reminder")]


def _calls_wanted(state: CaseState, policy: Policy) -> bool:
    """M1 calls only from the threshold balance up (below it: weekly SMS); M2+ always."""
    if state.stage not in _CALLING_STAGES:
        return False
    return not (state.bucket <= 1 and state.total < policy.contact.m1_call_threshold)


def _weekly_sms(state: CaseState, policy: Policy) -> list[PlannedContact]:
    if state.stage not in _CALLING_STAGES or _calls_wanted(state, policy):
        return []
    since = _entered(state)
    last = state.last_sms_at if state.last_sms_at and state.last_sms_at >= since else None
    every = days(policy.contact.m1_sms_every_days)
    when = since if last is None else utc(last) + every
    return [PlannedContact("sms", "debtor", when, "weekly_sms")]


def _good_lines(state: CaseState) -> tuple[PhoneLine, ...]:
    assert state.account is not None
    phones = state.account.phones
    if not state.bad_lines:  # the common case: every line still works
        return phones
    return tuple(line for line in phones if line not in state.bad_lines)


def _calls_in_last_week(records: tuple[ContactRecord, ...], at: datetime) -> list[datetime]:
    return sorted(
        utc(r.at)
        for r in records
        if r.channel == "call" and r.target == "debtor" and elapsed(at, r.at) < WEEK
    )


def _debtor_calls(state: CaseState, policy: Policy) -> list[PlannedContact]:
    """Calls to the debtor on the weekly cadence, rotating over the lines that work.

    The gap between calls is whole days (7 // required): 3 a week -> every 2 days, 4 a
    week -> daily, so the minimum is always met. Regulation F limits (7 calls in 7 days,
    quiet days after a conversation) push the next call later when a profile sets them.
    """
    if not _calls_wanted(state, policy):  # the cheap test first: most stages call no one
        return []
    lines = _good_lines(state)
    if not lines:
        return []
    rules = policy.contact
    assert state.account is not None and state.stage_entered_at is not None
    tz, entered = state.account.timezone, state.stage_entered_at
    last = state.last_call_at if state.last_call_at and state.last_call_at >= entered else None
    if last is None:
        when = entered
    else:
        gap = 7 // calls_required_per_week(state, last, rules)
        when = _window_start_days_after(last, gap, tz, rules.window_start)
    if rules.quiet_days_after_conversation and state.last_conversation_at is not None:
        when = max(
            when,
            utc(state.last_conversation_at) + days(rules.quiet_days_after_conversation),
        )
    if rules.max_calls_per_7_days is not None:
        recent = _calls_in_last_week(state.recent_contacts, when)
        if len(recent) >= rules.max_calls_per_7_days:
            when = max(when, recent[-rules.max_calls_per_7_days] + WEEK)
    when, line = _line_with_room(state, lines, when, rules)
    return [PlannedContact("call", "debtor", when, "cadence", line)]


# Shared by every case in a worker: a pure function of an instant, a day count, a zone
# name and a time (hashable), bounded to 4096 entries; no case's state is in the key.
@lru_cache(maxsize=4096)
def _window_start_days_after(last: datetime, gap: int, tz: str, start: time) -> datetime:
    """The window's start `gap` local days after the day of `last`: the next call of
    the cadence. Remembered: a case asks it at every step until it calls again."""
    return utc_at_local(local_date(last, tz) + days(gap), start, tz)


def _line_with_room(
    state: CaseState, lines: tuple[PhoneLine, ...], when: datetime, rules: ContactPolicy
) -> tuple[datetime, PhoneLine]:
    """The next line in the rotation that has room for another unanswered call on the
    day of the attempt (POLICY §5: at most 6 per number per day); if none has, the first
    window moment of the next day. Matters when a stage begins on a day of calls."""
    assert state.as_of is not None and state.account is not None
    tz = state.account.timezone
    start = state.debtor_calls % len(lines)
    when, day = window_open_and_day(max(when, state.as_of), tz, rules)
    records = state.recent_contacts
    if not records or records[-1].at < utc_start_of_day(day, tz):
        return when, lines[start]  # nothing yet on that day: every line has room (limit >= 1)
    rotation = lines[start:] + lines[:start]
    limit = rules.max_unanswered_calls_per_number_per_day
    for line in rotation:
        if unanswered_calls_on(state, line, day, tz) < limit:
            return when, line
    return utc_at_local(day + days(1), rules.window_start, tz), rotation[0]


def _third_party_calls(state: CaseState, policy: Policy) -> list[PlannedContact]:
    """POLICY §5: registered contacts only, only to locate a debtor we cannot reach,
    at most one call per contact per week (Regulation F: once per person).

    "Cannot reach" is a time, not a flag read at some moment: the debtor is out of reach
    from the start of the stage until a right-party contact, and again from the end of
    the lookback (7 days) after it. Calls to contacts wait for that time.
    """
    rules = policy.contact
    account = state.account
    assert account is not None
    if (
        state.bucket < rules.third_party_calls_from_bucket
        or account.contacts == 0
        or state.stage not in _CALLING_STAGES
        or rules.max_third_party_calls_per_contact_per_week == 0
    ):
        return []
    assert state.stage_entered_at is not None
    unreachable_from = state.stage_entered_at
    if state.last_rpc_at is not None:
        lapse = utc(state.last_rpc_at) + days(rules.contactable_lookback_days)
        unreachable_from = max(unreachable_from, lapse)
    total = rules.third_party_calls_per_contact_total
    used_up = (
        set()
        if total is None
        else {index for index, calls in state.contact_call_counts if calls >= total}
    )
    last_called = dict(state.contact_calls)
    best: tuple[datetime, int] | None = None
    for index in range(account.contacts):
        if index in used_up:
            continue
        previous = last_called.get(index)
        earliest = unreachable_from if previous is None else utc(previous) + WEEK
        candidate = (unreachable_from if unreachable_from > earliest else earliest, index)
        if best is None or candidate < best:  # `min` over the contacts
            best = candidate
    if best is None:
        return []
    when, index = best
    return [PlannedContact("call", "contact", when, "locate", None, index)]


def _letters(state: CaseState) -> list[PlannedContact]:
    """M3 on entry: a demand letter to the home and to the work address."""
    if state.stage != "letter":
        return []
    return [
        PlannedContact(
            channel="letter", target=address, planned_at=_entered(state), purpose="demand"
        )
        for address in _account(state).addresses
        if address not in state.letters_sent
    ]


def _visit(state: CaseState) -> list[PlannedContact]:
    """Stage visit: one field visit, the day after the stage began, home address first."""
    if state.stage != "visit" or state.visit_done:
        return []
    addresses = _account(state).addresses
    if not addresses:
        return []
    target: Target = "home_address" if "home_address" in addresses else "work_address"
    return [
        PlannedContact(
            channel="visit",
            target=target,
            planned_at=utc(_entered(state)) + days(1),
            purpose="field_visit",
        )
    ]
