"""Contact rules (POLICY §5) as guards and facts: what the contact history says (right
party, unanswered calls, contactable) and which attempts are refused (`check_attempt`)
or flagged to the auditor (`record_gaps`). The plan (`domain.contact_plan`) proposes
only attempts these rules allow; the guards catch a caller that does otherwise.
"""

from __future__ import annotations

from datetime import date, datetime

from domain.commands import RecordContactAttempt
from domain.contact_window import WEEK, elapsed, in_window, window_position
from domain.errors import DomainError
from domain.events import ContactAttempted, PhoneLine
from domain.localtime import days, utc_end_of_day, utc_start_of_day
from domain.policy import ContactPolicy, Policy
from domain.state import CaseState

_RIGHT_PARTY = frozenset({"right_party_contact", "promise", "refusal", "dispute"})
# Regulation F's quiet period follows a conversation *with the debtor* (1006.14(b)(2)(ii));
# a registered contact answering a locate call is not one (1006.10 limits those calls).
_CONVERSATION = _RIGHT_PARTY
_BAD_LINE = frozenset({"wrong_number", "invalid_number"})
_UNANSWERED = frozenset({"no_answer", "busy", "left_message"})


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
        and elapsed(at, r.at) < WEEK
    )


def contactable(state: CaseState, at: datetime, policy: ContactPolicy) -> bool:
    """POLICY §3: contactable = a right-party contact within the lookback (7 days)."""
    lookback = days(policy.contactable_lookback_days)
    return state.last_rpc_at is not None and elapsed(at, state.last_rpc_at) < lookback


def calls_required_per_week(state: CaseState, at: datetime, policy: ContactPolicy) -> int:
    """POLICY §3 cadence: at least 3 calls a week if contactable, 4 if not."""
    if contactable(state, at, policy):
        return policy.calls_per_week_contactable
    return policy.calls_per_week_uncontactable


def suppressed(state: CaseState) -> bool:
    """No contact at all: closed, on hold (cease contact, dispute, pause) or a promise or
    plan running (POLICY §5, §6)."""
    # `state.outcome is not None` is `state.closed` without the property call: asked of
    # every state the plan is worked out for.
    return (
        state.outcome is not None
        or bool(state.holds)
        or state.promise is not None
        or state.plan is not None
    )


# --- guards ------------------------------------------------------------------------------


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
    account = state.account
    assert account is not None
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
        today = window_position(now, account.timezone, rules.window_start, rules.window_end)[2]
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
