"""Contact rules (POLICY §3 "what happens", §5 contact rules): which attempt is due when.

The plan is derived from the state alone: each *track* (reminder SMS, weekly SMS, debtor
calls, third-party calls, demand letters, the field visit) proposes its next attempt
with the earliest time it may happen, always moved into the contact window of the
debtor's zone. Whether an attempt reaches anyone is not decided here: its outcome is an
input (`RecordContactAttempt`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict

from domain.events import AccountFacts, Channel, PhoneLine, Target
from domain.localtime import at_local, local_date, zone
from domain.policy import ContactPolicy, Policy
from domain.state import CaseState, ContactRecord

WEEK = timedelta(days=7)
_RIGHT_PARTY = frozenset({"right_party_contact", "promise", "refusal", "dispute"})
_CONVERSATION = _RIGHT_PARTY | {"third_party_contact"}
_BAD_LINE = frozenset({"wrong_number", "invalid_number"})
_CALLING_STAGES = frozenset({"phone", "letter", "visit"})


class PlannedContact(BaseModel):
    """One attempt the policy calls for, not before `planned_at`."""

    model_config = ConfigDict(frozen=True)

    channel: Channel
    target: Target
    planned_at: datetime
    line: PhoneLine | None = None
    contact_index: int | None = None
    purpose: str


# --- the contact window -------------------------------------------------------------


def in_window(moment: datetime, tz: str, policy: ContactPolicy) -> bool:
    """POLICY §5: 08:00-22:00 in the debtor's local time (start included, end excluded)."""
    clock = moment.astimezone(zone(tz)).timetz().replace(tzinfo=None)
    return policy.window_start <= clock < policy.window_end


def window_open_at(moment: datetime, tz: str, policy: ContactPolicy) -> datetime:
    """The first moment at or after `moment` inside the contact window.

    Outside the window an attempt waits: before the start it moves to today's start,
    after the end to tomorrow's.
    """
    if in_window(moment, tz, policy):
        return moment
    local = moment.astimezone(zone(tz))
    day = local.date()
    if local.timetz().replace(tzinfo=None) >= policy.window_end:
        day += timedelta(days=1)
    return at_local(day, policy.window_start, tz)


# --- facts about the contact history -------------------------------------------------


def is_right_party(outcome: str) -> bool:
    return outcome in _RIGHT_PARTY


def is_conversation(outcome: str) -> bool:
    return outcome in _CONVERSATION


def is_bad_line(outcome: str) -> bool:
    return outcome in _BAD_LINE


def contactable(state: CaseState, at: datetime, policy: ContactPolicy) -> bool:
    """POLICY §3: contactable = a right-party contact within the lookback (7 days)."""
    lookback = timedelta(days=policy.contactable_lookback_days)
    return state.last_rpc_at is not None and at - state.last_rpc_at < lookback


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


def plan(state: CaseState, policy: Policy) -> list[PlannedContact]:
    """The next attempt of every active track, earliest first."""
    if not state.opened or suppressed(state) or state.account is None:
        return []
    assert state.as_of is not None and state.stage_entered_at is not None
    proposals = [
        *_letters(state),
        *_visit(state),
        *_reminder_sms(state, policy.contact),
        *_weekly_sms(state, policy),
        *_debtor_calls(state, policy),
        *_third_party_calls(state, policy),
    ]
    tz = state.account.timezone
    placed = [
        p.model_copy(
            update={
                "planned_at": window_open_at(max(p.planned_at, state.as_of), tz, policy.contact)
            }
        )
        for p in proposals
    ]
    return sorted(placed, key=lambda p: p.planned_at)


def due(state: CaseState, now: datetime, policy: Policy) -> list[PlannedContact]:
    """The attempts whose time has come at `now`."""
    return [p for p in plan(state, policy) if p.planned_at <= now]


def next_contact_at(state: CaseState, policy: Policy) -> datetime | None:
    planned = plan(state, policy)
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
        when = state.last_sms_at + timedelta(days=policy.reminder_second_sms_after_days)
    return [PlannedContact(channel="sms", target="debtor", planned_at=when, purpose="reminder")]


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
    when = since if last is None else last + timedelta(days=policy.contact.m1_sms_every_days)
    return [PlannedContact(channel="sms", target="debtor", planned_at=when, purpose="weekly_sms")]


def _good_lines(state: CaseState) -> list[PhoneLine]:
    return [line for line in _account(state).phones if line not in state.bad_lines]


def _calls_in_last_week(records: tuple[ContactRecord, ...], at: datetime) -> list[datetime]:
    return sorted(
        r.at for r in records if r.channel == "call" and r.target == "debtor" and at - r.at < WEEK
    )


def _debtor_calls(state: CaseState, policy: Policy) -> list[PlannedContact]:
    """Calls to the debtor on the weekly cadence, rotating over the lines that work.

    The gap between calls is whole days (7 // required): 3 a week -> every 2 days, 4 a
    week -> daily, so the minimum is always met. Regulation F limits (7 calls in 7 days,
    quiet days after a conversation) push the next call later when a profile sets them.
    """
    lines = _good_lines(state)
    if not _calls_wanted(state, policy) or not lines:
        return []
    rules = policy.contact
    tz = _account(state).timezone
    last = (
        state.last_call_at if state.last_call_at and state.last_call_at >= _entered(state) else None
    )
    if last is None:
        when = _entered(state)
    else:
        gap = 7 // calls_required_per_week(state, last, rules)
        when = at_local(local_date(last, tz) + timedelta(days=gap), rules.window_start, tz)
    if rules.quiet_days_after_conversation and state.last_conversation_at is not None:
        when = max(
            when, state.last_conversation_at + timedelta(days=rules.quiet_days_after_conversation)
        )
    if rules.max_calls_per_7_days is not None:
        recent = _calls_in_last_week(state.recent_contacts, when)
        if len(recent) >= rules.max_calls_per_7_days:
            when = max(when, recent[-rules.max_calls_per_7_days] + WEEK)
    line = lines[state.debtor_calls % len(lines)]
    return [
        PlannedContact(
            channel="call", target="debtor", line=line, planned_at=when, purpose="cadence"
        )
    ]


def _third_party_calls(state: CaseState, policy: Policy) -> list[PlannedContact]:
    """POLICY §5: registered contacts only, only to locate a debtor we cannot reach,
    at most one call per contact per week (Regulation F: once per person)."""
    rules = policy.contact
    account = _account(state)
    if (
        account.contacts == 0
        or state.stage not in _CALLING_STAGES
        or state.bucket < rules.third_party_calls_from_bucket
        or rules.max_third_party_calls_per_contact_per_week == 0
        or contactable(state, state.as_of or _entered(state), rules)
    ):
        return []
    last_called = dict(state.contact_calls)
    counts = dict(state.contact_call_counts)
    candidates: list[tuple[datetime, int]] = []
    for index in range(account.contacts):
        total = rules.third_party_calls_per_contact_total
        if total is not None and counts.get(index, 0) >= total:
            continue
        previous = last_called.get(index)
        candidates.append((_entered(state) if previous is None else previous + WEEK, index))
    if not candidates:
        return []
    when, index = min(candidates)
    return [
        PlannedContact(
            channel="call", target="contact", contact_index=index, planned_at=when, purpose="locate"
        )
    ]


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
    addresses = _account(state).addresses
    if state.stage != "visit" or state.visit_done or not addresses:
        return []
    target = "home_address" if "home_address" in addresses else "work_address"
    return [
        PlannedContact(
            channel="visit",
            target=target,
            planned_at=_entered(state) + timedelta(days=1),
            purpose="field_visit",
        )
    ]
