"""Contact rules (POLICY §3 "what happens", §5 contact rules): which attempt is due when.

The plan is derived from the state alone: each *track* (reminder SMS, weekly SMS, debtor
calls, third-party calls, demand letters, the field visit) proposes its next attempt
with the earliest time it may happen, always moved into the contact window of the
debtor's zone. Whether an attempt reaches anyone is not decided here: its outcome is an
input (`RecordContactAttempt`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import NamedTuple

from domain.commands import RecordContactAttempt
from domain.errors import DomainError
from domain.events import AccountFacts, Channel, ContactAttempted, PhoneLine, Target
from domain.localtime import (
    days,
    local_date,
    utc_at_local,
    utc_end_of_day,
    utc_start_of_day,
    zone,
)
from domain.memo import remember_last
from domain.policy import ContactPolicy, Policy
from domain.state import CaseState, ContactRecord

WEEK = timedelta(days=7)
_RIGHT_PARTY = frozenset({"right_party_contact", "promise", "refusal", "dispute"})
# Regulation F's quiet period follows a conversation *with the debtor* (1006.14(b)(2)(ii));
# a registered contact answering a locate call is not one (1006.10 limits those calls).
_CONVERSATION = _RIGHT_PARTY
_BAD_LINE = frozenset({"wrong_number", "invalid_number"})
_UNANSWERED = frozenset({"no_answer", "busy", "left_message"})
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


# --- instants ------------------------------------------------------------------------------
#
# Durations ("within 7 days", "a week after") are measured between instants, in UTC.
# Python subtracts two datetimes of the *same* zone by their wall clocks, so across a
# daylight-saving change the answer would depend on how a time was written (in the
# debtor's zone live, with a fixed offset once read back from the event store), and a
# rebuilt case could decide differently from the live one.


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def _elapsed(later: datetime, earlier: datetime) -> timedelta:
    return _utc(later) - _utc(earlier)


# --- the contact window -------------------------------------------------------------


def in_window(moment: datetime, tz: str, policy: ContactPolicy) -> bool:
    """POLICY §5: 08:00-22:00 in the debtor's local time (start included, end excluded)."""
    return _window(moment, tz, policy.window_start, policy.window_end)[0] is None


def window_open_at(moment: datetime, tz: str, policy: ContactPolicy) -> datetime:
    """The first moment at or after `moment` inside the contact window.

    Outside the window an attempt waits: before the start it moves to today's start,
    after the end to tomorrow's.
    """
    return _window_open_and_day(moment, tz, policy)[0]


def _window_open_and_day(moment: datetime, tz: str, policy: ContactPolicy) -> tuple[datetime, date]:
    """`window_open_at`, and the debtor's local day of the moment it answers."""
    moved, day, _ = _window(moment, tz, policy.window_start, policy.window_end)
    return (moment, day) if moved is None else (moved, day)


@lru_cache(maxsize=8192)
def _window(
    moment: datetime, tz: str, start: time, end: time
) -> tuple[datetime | None, date, date]:
    """Where `moment` lies against the window, from one conversion to the debtor's zone:
    (None if inside it, else the window's next opening; the local day of that answer;
    the local day of `moment`).

    Remembered by instant: the plan and the guards ask about the same few moments at
    every step (the business time, the times the tracks propose), and a conversion
    costs about four times a lookup. An equal instant gives an equal answer whatever
    zone it is written in; `moment` itself is never remembered as the answer."""
    local = moment.astimezone(zone(tz))
    clock = local.time()  # the local wall clock: `timetz()` sans zone
    today = local.date()
    if start <= clock < end:
        return None, today, today
    day = today + days(1) if clock >= end else today
    return utc_at_local(day, start, tz), day, today


# --- facts about the contact history -------------------------------------------------


def is_right_party(outcome: str) -> bool:
    return outcome in _RIGHT_PARTY


def is_conversation(outcome: str) -> bool:
    return outcome in _CONVERSATION


def is_bad_line(outcome: str) -> bool:
    return outcome in _BAD_LINE


def unanswered_calls_on(state: CaseState, line: PhoneLine, day: date, tz: str) -> int:
    """POLICY §5: unanswered calls to `line` on the debtor's local `day` (zone `tz`).

    The records are in time order (an event never goes back in time, `check_forward`),
    so the day's calls are the newest ones: the walk back stops where the day began
    instead of converting a week of records to local dates."""
    begins, ends = utc_start_of_day(day, tz), utc_end_of_day(day, tz)
    count = 0
    for r in reversed(state.recent_contacts):
        if r.at < begins:
            break
        if (
            r.at < ends
            and r.line == line
            and r.channel == "call"
            and r.target == "debtor"
            and r.outcome in _UNANSWERED
        ):
            count += 1
    return count


def contact_calls_in_week(state: CaseState, index: int, at: datetime) -> int:
    """Calls to registered contact `index` in the 7 days before `at`."""
    return sum(
        1
        for r in state.recent_contacts
        if r.channel == "call"
        and r.target == "contact"
        and r.contact_index == index
        and _elapsed(at, r.at) < WEEK
    )


def contactable(state: CaseState, at: datetime, policy: ContactPolicy) -> bool:
    """POLICY §3: contactable = a right-party contact within the lookback (7 days)."""
    lookback = days(policy.contactable_lookback_days)
    return state.last_rpc_at is not None and _elapsed(at, state.last_rpc_at) < lookback


def calls_required_per_week(state: CaseState, at: datetime, policy: ContactPolicy) -> int:
    """POLICY §3 cadence: at least 3 calls a week if contactable, 4 if not."""
    if contactable(state, at, policy):
        return policy.calls_per_week_contactable
    return policy.calls_per_week_uncontactable


def suppressed(state: CaseState) -> bool:
    """No contact at all: closed, on hold (cease contact, dispute, pause) or a promise or
    plan running (POLICY §5, §6)."""
    return state.closed or bool(state.holds) or state.promise is not None or state.plan is not None


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
    floor = state.as_of if now is None else max(state.as_of, _utc(now))
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
        moved = _window(at, tz, rules.window_start, rules.window_end)[0]
        if moved is not None:
            at = moved
        placed.append(p if at is p.planned_at else p._replace(planned_at=at))
    placed.sort(key=_at)
    return tuple(placed)


def _at(p: PlannedContact) -> datetime:
    return p.planned_at


def check_attempt(state: CaseState, c: RecordContactAttempt, now: datetime, policy: Policy) -> None:
    """Guards, not plans: an attempt that breaks a contact rule is a bug in the caller,
    and is refused (`DomainError`) rather than recorded as if it were allowed.

    POLICY §5: the contact window, holds (and a running promise or plan), at most N
    unanswered calls per number per day, and third parties only among the registered
    contacts, only while the debtor cannot be reached, at most once a week (Regulation F:
    once per person).
    """
    # Each guard runs on every attempt recorded: the refusal (and its message) is built
    # only when the guard fails, not formatted in advance as `check(...)` would.
    account = _account(state)
    rules = policy.contact
    if state.closed:
        raise DomainError("case_open", "the case is closed")
    if suppressed(state):
        raise DomainError(
            "contact_hold",
            "no contact during a hold, promise or plan",
            holds=",".join(state.holds) or "none",
            promise=state.promise is not None,
            plan=state.plan is not None,
        )
    if not in_window(now, account.timezone, rules):
        raise DomainError(
            "contact_window",
            f"outside the contact window {rules.window_start:%H:%M}-{rules.window_end:%H:%M} "
            "of the debtor's time zone",
            at=now,
            timezone=account.timezone,
        )
    if c.channel == "call" and c.target == "debtor" and c.line is not None:
        today = _window(now, account.timezone, rules.window_start, rules.window_end)[2]
        made = unanswered_calls_on(state, c.line, today, account.timezone)
        limit = rules.max_unanswered_calls_per_number_per_day
        if made >= limit:
            raise DomainError(
                "calls_per_number_per_day",
                f"at most {limit} unanswered calls per number per day",
                line=c.line,
                unanswered_today=made,
            )
    if c.target == "contact":
        _check_third_party(state, c, now, policy)


def _check_third_party(
    state: CaseState, c: RecordContactAttempt, now: datetime, policy: Policy
) -> None:
    # `if ... raise` rather than `check(...)`: the refusals are written only when refusing
    # (as in `check_attempt`), not for every locate call recorded.
    rules = policy.contact
    assert state.account is not None
    registered = state.account.contacts
    index = c.contact_index
    if index is None or not 0 <= index < registered:
        raise DomainError(
            "third_party",
            "only registered contacts may be called",
            contact_index=index,
            registered=registered,
        )
    if state.bucket < rules.third_party_calls_from_bucket:
        raise DomainError(
            "third_party",
            f"registered contacts are called from M{rules.third_party_calls_from_bucket} on",
            bucket=f"M{state.bucket}",
        )
    if contactable(state, now, rules):
        raise DomainError(
            "third_party",
            "registered contacts are called only while the debtor cannot be reached",
            last_right_party_contact=state.last_rpc_at,
        )
    week = contact_calls_in_week(state, index, now)
    if week >= rules.max_third_party_calls_per_contact_per_week:
        raise DomainError(
            "third_party",
            f"at most {rules.max_third_party_calls_per_contact_per_week} call(s) per contact"
            " per week",
            contact_index=index,
            calls_this_week=week,
        )
    total = rules.third_party_calls_per_contact_total
    made = dict(state.contact_call_counts).get(index, 0)
    if total is not None and made >= total:
        raise DomainError(
            "third_party",
            f"at most {total} call(s) per contact in all",
            contact_index=index,
            calls=made,
        )


def record_gaps(attempt: ContactAttempted, rules: ContactPolicy) -> list[str]:
    """POLICY §5, what the record of an attempt must carry: a recording reference on
    every call, and at least `visit_collectors` (2) collectors on a field visit.

    Not a guard: the attempt has happened, and refusing its record would lose a fact.
    What is missing is shown to the auditor instead (`arrears audit`)."""
    gaps = []
    if attempt.channel == "call" and not attempt.recording_ref:
        gaps.append("a call without a recording reference")
    collectors = len(set(attempt.collector_ids))
    if attempt.channel == "visit" and collectors < rules.visit_collectors:
        gaps.append(
            f"a field visit by {collectors} collector(s), "
            f"at least {rules.visit_collectors} required"
        )
    return gaps


def next_contact_at(
    state: CaseState, policy: Policy, now: datetime | None = None
) -> datetime | None:
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
        when = _utc(state.last_sms_at) + days(policy.reminder_second_sms_after_days)
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
    when = since if last is None else _utc(last) + every
    return [PlannedContact("sms", "debtor", when, "weekly_sms")]


def _good_lines(state: CaseState) -> tuple[PhoneLine, ...]:
    assert state.account is not None
    phones = state.account.phones
    if not state.bad_lines:  # the common case: every line still works
        return phones
    return tuple(line for line in phones if line not in state.bad_lines)


def _calls_in_last_week(records: tuple[ContactRecord, ...], at: datetime) -> list[datetime]:
    return sorted(
        _utc(r.at)
        for r in records
        if r.channel == "call" and r.target == "debtor" and _elapsed(at, r.at) < WEEK
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
            _utc(state.last_conversation_at) + days(rules.quiet_days_after_conversation),
        )
    if rules.max_calls_per_7_days is not None:
        recent = _calls_in_last_week(state.recent_contacts, when)
        if len(recent) >= rules.max_calls_per_7_days:
            when = max(when, recent[-rules.max_calls_per_7_days] + WEEK)
    when, line = _line_with_room(state, lines, when, rules)
    return [PlannedContact("call", "debtor", when, "cadence", line)]


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
    when, day = _window_open_and_day(max(when, state.as_of), tz, rules)
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
        lapse = _utc(state.last_rpc_at) + days(rules.contactable_lookback_days)
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
        earliest = unreachable_from if previous is None else _utc(previous) + WEEK
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
            planned_at=_utc(_entered(state)) + days(1),
            purpose="field_visit",
        )
    ]
