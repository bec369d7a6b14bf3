"""Contact rules (POLICY §3 "what happens", §5 contact rules, the `us-reg-f` profile).

The default case of `conftest.py`: statement day 5, grace 20, principal 10,000.00, opened
2026-03-01 00:00 bank time (Asia/Shanghai) in M0 with the due date 2026-02-25 missed.
Its calendar, worked by hand:
- 2026-03-05 (S): M1, stage `phone`; interest 10,000.00 x 0.0005 x 4 days = 20.00, so
  the balance (10,020.00) is over the 2,000.00 call threshold: calls, daily while the
  debtor has not been reached (4+ a week), one call a day, at 08:00.
- 2026-04-05 (S): M2 (registered contacts may be called); 2026-05-05 (S): M3, `letter`;
  10 days later, 2026-05-15 00:00, with no payment or promise: `visit`.
Every time below is worked out by hand from those dates; "08:00" is the window's start.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest

from domain.case import next_wakeup
from domain.commands import (
    CeaseContact,
    Escalate,
    OpenDispute,
    Pause,
    PromiseToPay,
    RecordContactAttempt,
    ResolveDispute,
    Resume,
)
from domain.contact import in_window, plan, record_gaps, window_open_at
from domain.errors import DomainError
from domain.events import ContactAttempted, Event, HoldStarted, Outcome, PromiseBroken
from domain.localtime import zone
from domain.policy import ContactPolicy, Policy
from domain.simulation import CaseRun
from tests.domain.casework import (
    always,
    attempts,
    by_line,
    calls_to_debtor,
    drive,
    local,
    scripted,
    wake,
)
from tests.domain.conftest import actor, bank_time, of_type, open_case, send

D = Decimal
SHANGHAI = "Asia/Shanghai"
NEW_YORK = "America/New_York"
KARACHI = "Asia/Karachi"  # UTC+5 all year: the bank's midnight is 21:00 there
CN_CARD = Policy()
# POLICY.md "Alternative profile: us-reg-f" (12 CFR 1006), built from its numbers.
US_REG_F = Policy(
    name="us-reg-f",
    contact=ContactPolicy(
        window_start=time(8, 0),
        window_end=time(21, 0),  # 1006.6(b)(1)
        max_calls_per_7_days=7,  # 1006.14(b)(2)(i)
        quiet_days_after_conversation=7,  # 1006.14(b)(2)(ii)
        third_party_calls_per_contact_total=1,  # 1006.10
    ),
)
TWO_CONTACTS = "Wang Wu:friend:+8613800000011;Zhao Liu:mother:+8613800000012"


def at(tz: str, day: str, hour: int = 0, minute: int = 0) -> datetime:
    return datetime.combine(date.fromisoformat(day), time(hour, minute), tzinfo=zone(tz))


def times(events: list[ContactAttempted], tz: str = SHANGHAI) -> list[str]:
    return [local(e.at, tz) for e in events]


def between(events: list[Event], start: datetime, end: datetime) -> list[ContactAttempted]:
    """Contact attempts at `start` <= at < `end`."""
    return [e for e in attempts(events) if start <= e.at < end]


def record(
    run: CaseRun,
    when: datetime,
    outcome: Outcome = "no_answer",
    *,
    channel: str = "call",
    target: str = "debtor",
    line: str | None = "mobile",
    contact_index: int | None = None,
) -> list[Event]:
    """An attempt reported as an input (a collector's own redial, a provider's report)."""
    command = RecordContactAttempt.model_validate(
        {
            "channel": channel,
            "target": target,
            "line": line if channel == "call" and target == "debtor" else None,
            "contact_index": contact_index,
            "outcome": outcome,
            "planned_at": when,
            "recording_ref": "rec-manual" if channel == "call" else None,
        }
    )
    return run.apply(command, when)


def next_call(run: CaseRun, target: str = "debtor") -> tuple[str, str | None]:
    """(local bank time, line) of the next planned call to `target`."""
    planned = [p for p in plan(run.state, run.policy) if p.channel == "call" and p.target == target]
    assert planned, "no call is planned"
    return local(planned[0].planned_at, SHANGHAI), planned[0].line


# --- the contact window ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("clock", "inside"),
    [("07:59", False), ("08:00", True), ("21:59", True), ("22:00", False), ("03:00", False)],
)
def test_the_window_runs_from_eight_to_ten_in_the_debtors_local_time(
    clock: str, inside: bool
) -> None:
    hour, minute = map(int, clock.split(":"))
    moment = at(SHANGHAI, "2026-03-10", hour, minute)
    assert in_window(moment, SHANGHAI, CN_CARD.contact) is inside


def test_the_window_is_the_debtors_not_the_banks() -> None:
    # 10:00 in Shanghai is 22:00 the evening before in New York (EDT, UTC-4): shut there.
    moment = at(SHANGHAI, "2026-03-10", 10)
    assert in_window(moment, SHANGHAI, CN_CARD.contact)
    assert not in_window(moment, NEW_YORK, CN_CARD.contact)
    # it opens at 08:00 New York time on 2026-03-10, which is 20:00 in Shanghai
    opens = window_open_at(moment, NEW_YORK, CN_CARD.contact)
    assert local(opens, NEW_YORK) == "2026-03-10 08:00"
    assert local(opens, SHANGHAI) == "2026-03-10 20:00"


@pytest.mark.parametrize(
    ("moment", "opens"),
    [
        ("2026-03-10 06:30", "2026-03-10 08:00"),  # before the start: today's start
        ("2026-03-10 13:15", "2026-03-10 13:15"),  # inside: at once
        ("2026-03-10 22:00", "2026-03-11 08:00"),  # at the end: tomorrow's start
        ("2026-03-31 23:59", "2026-04-01 08:00"),  # across a month end
    ],
)
def test_an_attempt_outside_the_window_waits_for_the_next_window_moment(
    moment: str, opens: str
) -> None:
    day, clock = moment.split()
    hour, minute = map(int, clock.split(":"))
    when = window_open_at(at(SHANGHAI, day, hour, minute), SHANGHAI, CN_CARD.contact)
    assert local(when, SHANGHAI) == opens


def test_a_new_york_debtor_is_contacted_in_new_york_hours_while_the_bank_sleeps() -> None:
    run = open_case(timezone=NEW_YORK)
    events = drive(run, bank_time("2026-03-09", 23))
    # Opened 2026-03-01 00:00 Shanghai = 2026-02-28 11:00 in New York (EST, UTC-5):
    # inside the debtor's window, so the reminder SMS goes at once, at the bank's midnight.
    sms = [e for e in attempts(events) if e.channel == "sms"]
    assert times(sms, NEW_YORK) == ["2026-02-28 11:00"]
    assert times(sms, SHANGHAI) == ["2026-03-01 00:00"]
    # M1 at 2026-03-05 00:00 Shanghai = 03-04 11:00 New York: the first call at once; then
    # one a day at 08:00 New York time: 21:00 in Shanghai while New York is on EST, 20:00
    # from 2026-03-08 (EDT, UTC-4).
    calls = calls_to_debtor(events)
    assert times(calls, NEW_YORK) == [
        "2026-03-04 11:00",
        "2026-03-05 08:00",
        "2026-03-06 08:00",
        "2026-03-07 08:00",
        "2026-03-08 08:00",
        "2026-03-09 08:00",
    ]
    assert times(calls, SHANGHAI) == [
        "2026-03-05 00:00",
        "2026-03-05 21:00",
        "2026-03-06 21:00",
        "2026-03-07 21:00",
        "2026-03-08 20:00",
        "2026-03-09 20:00",
    ]
    for attempt in attempts(events):
        assert in_window(attempt.at, NEW_YORK, CN_CARD.contact)
    # the SMS and the first call were made at the bank's midnight, outside its own window
    assert sum(not in_window(a.at, SHANGHAI, CN_CARD.contact) for a in attempts(events)) == 2


def test_a_new_york_debtor_is_not_called_in_the_banks_morning_after_a_dispute_ends() -> None:
    run = open_case(timezone=NEW_YORK)
    drive(run, bank_time("2026-03-06", 9))  # last call 03-05 21:00 Shanghai
    send(
        run,
        OpenDispute(actor=actor("collector"), reason="debt not mine"),
        bank_time("2026-03-06", 9),
    )
    # resolved at 11:00 Shanghai on 2026-03-10 = 23:00 on 03-09 in New York (EDT): too late
    resolved = bank_time("2026-03-10", 11)
    send(run, ResolveDispute(actor=actor("supervisor"), reason="verified"), resolved)
    events = drive(run, bank_time("2026-03-11", 23))
    calls = calls_to_debtor(events)
    # the next call waits for 08:00 in New York, 20:00 in Shanghai, not for the bank's 11:00
    assert times(calls, NEW_YORK)[:2] == ["2026-03-10 08:00", "2026-03-11 08:00"]
    assert times(calls, SHANGHAI)[0] == "2026-03-10 20:00"


def test_a_late_wake_up_at_night_dials_nobody_and_the_attempt_waits_for_the_morning() -> None:
    run = open_case()
    # the case wakes at 23:00 (it slept through 08:00): the reminder SMS is overdue but
    # the window is shut, so nothing is sent, nothing is refused ...
    night = bank_time("2026-03-01", 23)
    assert attempts(wake(run, night, always("delivered"))) == []
    # ... and the next wake-up is the window's next opening, not the overdue 08:00 again
    assert next_wakeup(run.state, run.policy, night) == bank_time("2026-03-02", 8)
    morning = wake(run, bank_time("2026-03-02", 8), always("delivered"))
    assert times(attempts(morning)) == ["2026-03-02 08:00"]


@pytest.mark.parametrize(
    ("clock", "accepted"), [("21:59", True), ("22:00", False), ("07:59", False)]
)
def test_an_attempt_reported_outside_the_window_is_refused(clock: str, accepted: bool) -> None:
    run = open_case()
    hour, minute = map(int, clock.split(":"))
    when = bank_time("2026-03-02", hour, minute)
    if accepted:
        assert of_type(record(run, when, "delivered", channel="sms"), ContactAttempted)
    else:
        before = run.state
        with pytest.raises(DomainError) as refused:
            record(run, when, "delivered", channel="sms")
        assert refused.value.rule == "contact_window"
        assert run.state == before


# --- M0: reminder SMS ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("opened", "first", "second"),
    [
        # opened at midnight after the missed due date: the first window moment
        (("2026-03-26", 0), "2026-03-26 08:00", "2026-03-31 08:00"),
        # opened inside the window: at once, and 5 days after that
        (("2026-03-26", 10), "2026-03-26 10:00", "2026-03-31 10:00"),
        # opened at night: the next morning
        (("2026-03-26", 23), "2026-03-27 08:00", "2026-04-01 08:00"),
    ],
)
def test_m0_sends_a_reminder_sms_at_once_and_again_five_days_later_and_never_calls(
    opened: tuple[str, int], first: str, second: str
) -> None:
    # due date 2026-03-25 missed: M0 until the statement of 2026-04-05
    run = open_case(oldest_unpaid_due_date="2026-03-25", at=bank_time(*opened))
    events = drive(run, bank_time("2026-04-04", 23), always("delivered"))
    assert run.state.stage == "reminder"
    assert [(a.channel, local(a.at, SHANGHAI)) for a in attempts(events)] == [
        ("sms", first),
        ("sms", second),
    ]


def test_m1_starts_calling_when_the_statement_moves_the_case_out_of_m0() -> None:
    run = open_case(oldest_unpaid_due_date="2026-03-25", at=bank_time("2026-03-26"))
    events = drive(run, bank_time("2026-04-05", 12), always("delivered"))
    assert [(a.channel, local(a.at, SHANGHAI)) for a in attempts(events)] == [
        ("sms", "2026-03-26 08:00"),
        ("sms", "2026-03-31 08:00"),
        ("call", "2026-04-05 08:00"),
    ]


# --- M1: calls only from 2,000.00 --------------------------------------------------------


def m1_case(principal: str) -> CaseRun:
    """Opened 2026-03-10, after the statement of 03-05: M1 (stage `phone`) at once, and no
    interest is charged before 04-05, so the balance is exactly the principal."""
    return open_case(principal=principal, unpaid_minimum="150.00", at=bank_time("2026-03-10"))


def test_m1_calls_a_balance_of_exactly_two_thousand() -> None:
    run = m1_case("2000.00")
    assert (run.state.stage, run.state.bucket, run.state.total) == ("phone", 1, D("2000.00"))
    events = drive(run, bank_time("2026-03-13", 23), always("delivered"))
    assert [(a.channel, local(a.at, SHANGHAI)) for a in attempts(events)] == [
        ("call", "2026-03-10 08:00"),
        ("call", "2026-03-11 08:00"),
        ("call", "2026-03-12 08:00"),
        ("call", "2026-03-13 08:00"),
    ]


def test_m1_below_two_thousand_sends_a_weekly_sms_and_never_calls() -> None:
    run = m1_case("1999.99")
    events = drive(run, bank_time("2026-04-04", 23), always("delivered"))
    assert [(a.channel, local(a.at, SHANGHAI)) for a in attempts(events)] == [
        ("sms", "2026-03-10 08:00"),
        ("sms", "2026-03-17 08:00"),
        ("sms", "2026-03-24 08:00"),
        ("sms", "2026-03-31 08:00"),
    ]


def test_m2_calls_a_small_balance_that_m1_only_texted() -> None:
    run = m1_case("1999.99")
    drive(run, bank_time("2026-04-04", 23), always("delivered"))
    events = drive(run, bank_time("2026-04-06", 23), always("no_answer"))
    assert run.state.bucket == 2
    assert [(a.channel, local(a.at, SHANGHAI)) for a in attempts(events)] == [
        ("call", "2026-04-05 08:00"),
        ("call", "2026-04-06 08:00"),
    ]


# --- cadence -----------------------------------------------------------------------------


def least_calls_in_any_week(calls: list[ContactAttempted], start: datetime, end: datetime) -> int:
    """The fewest calls in any 7-day span [t, t + 7 days) with start <= t <= end - 7 days,
    checked at every hour."""
    fewest = len(calls)
    t = start
    while t + timedelta(days=7) <= end:
        fewest = min(fewest, sum(t <= c.at < t + timedelta(days=7) for c in calls))
        t += timedelta(hours=1)
    return fewest


def test_a_debtor_not_reached_is_called_every_day_at_least_four_times_a_week() -> None:
    run = open_case()
    events = drive(run, bank_time("2026-03-25", 23))
    calls = calls_to_debtor(events)
    # daily from 2026-03-05 to 2026-03-25: 21 calls
    assert len(calls) == 21
    assert times(calls)[:3] == ["2026-03-05 08:00", "2026-03-06 08:00", "2026-03-07 08:00"]
    start, end = bank_time("2026-03-05", 8), bank_time("2026-03-26")
    assert least_calls_in_any_week(calls, start, end) >= 4


def test_a_debtor_reached_is_called_every_other_day_and_daily_again_a_week_later() -> None:
    run = open_case()
    # the first call (2026-03-05 08:00) reaches the debtor; nobody answers afterwards
    events = drive(run, bank_time("2026-03-17", 23), scripted(["delivered", "right_party_contact"]))
    calls = calls_to_debtor(events)
    # contactable until 03-12 08:00: a call every 2 days (05, 07, 09, 11); the call on 03-11
    # is still made while contactable, so the next one is 03-13; from then daily
    assert times(calls) == [
        "2026-03-05 08:00",
        "2026-03-07 08:00",
        "2026-03-09 08:00",
        "2026-03-11 08:00",
        "2026-03-13 08:00",
        "2026-03-14 08:00",
        "2026-03-15 08:00",
        "2026-03-16 08:00",
        "2026-03-17 08:00",
    ]
    # at least 3 in every week while contactable (03-05 08:00 .. 03-12 08:00)
    contactable = [c for c in calls if c.at < bank_time("2026-03-12", 8)]
    assert (
        least_calls_in_any_week(contactable, bank_time("2026-03-05", 8), bank_time("2026-03-12", 8))
        >= 3
    )
    # and at least 4 in every week after it lapsed
    assert least_calls_in_any_week(calls, bank_time("2026-03-12", 8), bank_time("2026-03-18")) >= 4


# --- at most 6 unanswered calls per number per day --------------------------------------


def test_a_seventh_unanswered_call_to_the_same_number_on_one_day_is_refused() -> None:
    run = open_case(home_phone="01088888888")
    drive(run, bank_time("2026-03-05", 1))
    for hour in (8, 9, 10, 11, 12):
        record(run, bank_time("2026-03-05", hour), "no_answer")
    record(run, bank_time("2026-03-05", 13), "busy")  # busy is unanswered too: six now
    before = run.state
    with pytest.raises(DomainError) as refused:
        record(run, bank_time("2026-03-05", 14), "no_answer")
    assert refused.value.rule == "calls_per_number_per_day"
    assert "mobile" in str(refused.value) and "6" in str(refused.value)
    assert run.state == before
    # another number the same day, and the same number the next day, are fine
    assert record(run, bank_time("2026-03-05", 14), "no_answer", line="home_phone")
    assert record(run, bank_time("2026-03-06", 8), "no_answer")


def test_answered_calls_do_not_count_towards_the_six_unanswered() -> None:
    run = open_case()
    drive(run, bank_time("2026-03-05", 1))
    for hour, outcome in [(8, "no_answer"), (9, "right_party_contact"), (10, "no_answer")]:
        record(run, bank_time("2026-03-05", hour), outcome)
    for hour in (11, 12, 13):
        record(run, bank_time("2026-03-05", hour), "no_answer")
    # six calls, five unanswered: a sixth unanswered one is still allowed, a seventh not
    assert record(run, bank_time("2026-03-05", 14), "no_answer")
    with pytest.raises(DomainError, match="calls_per_number_per_day"):
        record(run, bank_time("2026-03-05", 15), "no_answer")


def test_a_stage_begun_after_six_unanswered_calls_waits_for_tomorrow_on_that_number() -> None:
    run = open_case()
    drive(run, bank_time("2026-03-05", 1))
    for hour in (8, 9, 10, 11, 12, 13):
        record(run, bank_time("2026-03-05", hour), "no_answer")
    # a supervisor moves the case on at 14:00: the new stage calls at once, but the only
    # number has had its six unanswered calls today
    send(
        run,
        Escalate(actor=actor(), reason="no response", to_stage="letter"),
        bank_time("2026-03-05", 14),
    )
    assert run.state.stage == "letter"
    assert next_call(run) == ("2026-03-06 08:00", "mobile")


def test_a_stage_begun_after_six_unanswered_calls_uses_another_number_today() -> None:
    run = open_case(home_phone="01088888888")
    drive(run, bank_time("2026-03-05", 1))
    for hour in (8, 9, 10, 11, 12, 13):
        record(run, bank_time("2026-03-05", hour), "no_answer")
    send(
        run,
        Escalate(actor=actor(), reason="no response", to_stage="letter"),
        bank_time("2026-03-05", 14),
    )
    assert next_call(run) == ("2026-03-05 14:00", "home_phone")


# --- numbers that do not work -------------------------------------------------------------


def test_wrong_and_invalid_numbers_are_dropped_from_the_rotation() -> None:
    run = open_case(home_phone="01088888888", work_phone="01066666666")
    outcomes = by_line({"home_phone": "wrong_number", "work_phone": "invalid_number"})
    events = drive(run, bank_time("2026-03-10", 23), outcomes)
    calls = calls_to_debtor(events)
    # call n goes to working line n mod (working lines): n=0 mobile, n=1 home (wrong:
    # dropped), n=2 of [mobile, work] = mobile, n=3 work (invalid: dropped), then mobile
    assert [(local(c.at, SHANGHAI), c.line) for c in calls] == [
        ("2026-03-05 08:00", "mobile"),
        ("2026-03-06 08:00", "home_phone"),
        ("2026-03-07 08:00", "mobile"),
        ("2026-03-08 08:00", "work_phone"),
        ("2026-03-09 08:00", "mobile"),
        ("2026-03-10 08:00", "mobile"),
    ]
    assert set(run.state.bad_lines) == {"home_phone", "work_phone"}


def test_a_debtor_whose_only_number_is_wrong_is_not_called_again() -> None:
    run = open_case()
    events = drive(run, bank_time("2026-03-31", 23), by_line({"mobile": "wrong_number"}))
    assert times(calls_to_debtor(events)) == ["2026-03-05 08:00"]


# --- third parties ------------------------------------------------------------------------


def third_party_calls(events: list[Event]) -> list[tuple[str, int | None]]:
    return [
        (local(a.at, SHANGHAI), a.contact_index)
        for a in attempts(events)
        if a.channel == "call" and a.target == "contact"
    ]


def test_registered_contacts_are_not_called_in_m1() -> None:
    run = open_case(contacts=TWO_CONTACTS)
    events = drive(run, bank_time("2026-04-04", 23))
    assert run.state.bucket == 1
    assert calls_to_debtor(events)  # the debtor is called, never reached
    assert third_party_calls(events) == []


def test_from_m2_each_registered_contact_is_called_at_most_once_a_week() -> None:
    run = open_case(contacts=TWO_CONTACTS)
    events = drive(run, bank_time("2026-04-26", 23))
    # M2 from 2026-04-05 00:00; the debtor has never been reached
    assert third_party_calls(events) == [
        ("2026-04-05 08:00", 0),
        ("2026-04-05 08:00", 1),
        ("2026-04-12 08:00", 0),
        ("2026-04-12 08:00", 1),
        ("2026-04-19 08:00", 0),
        ("2026-04-19 08:00", 1),
        ("2026-04-26 08:00", 0),
        ("2026-04-26 08:00", 1),
    ]


def test_contacts_are_not_called_while_the_debtor_is_reachable() -> None:
    run = open_case(contacts=TWO_CONTACTS)
    drive(run, bank_time("2026-04-04", 23))
    # 04-05: the debtor does not answer, the contacts are called; 04-06 the debtor answers
    events = drive(
        run,
        bank_time("2026-04-20", 23),
        scripted(["no_answer", "no_answer", "no_answer", "right_party_contact"]),
    )
    assert [(local(c.at, SHANGHAI), c.outcome) for c in calls_to_debtor(events)][:2] == [
        ("2026-04-05 08:00", "no_answer"),
        ("2026-04-06 08:00", "right_party_contact"),
    ]
    # reachable until 2026-04-13 08:00: the weekly calls of 04-12 wait until then
    assert third_party_calls(events)[:4] == [
        ("2026-04-05 08:00", 0),
        ("2026-04-05 08:00", 1),
        ("2026-04-13 08:00", 0),
        ("2026-04-13 08:00", 1),
    ]


@pytest.mark.parametrize(
    ("contact_index", "why"),
    [(2, "contact_index=2"), (None, "contact_index=None")],
)
def test_only_registered_contacts_may_be_called(contact_index: int | None, why: str) -> None:
    run = open_case(contacts=TWO_CONTACTS)
    drive(run, bank_time("2026-04-05", 1))
    with pytest.raises(DomainError) as refused:
        record(run, bank_time("2026-04-05", 9), target="contact", contact_index=contact_index)
    assert refused.value.rule == "third_party"
    assert why in str(refused.value)


def test_a_contact_call_in_m1_or_twice_in_a_week_or_to_reach_a_reachable_debtor_is_refused() -> (
    None
):
    run = open_case(contacts=TWO_CONTACTS)
    drive(run, bank_time("2026-03-06", 1))
    with pytest.raises(DomainError, match="from M2"):
        record(run, bank_time("2026-03-06", 9), target="contact", contact_index=0)
    drive(run, bank_time("2026-04-05", 9))  # M2: both contacts called at 08:00
    with pytest.raises(DomainError, match="per contact per week"):
        record(run, bank_time("2026-04-11", 9), target="contact", contact_index=0)
    record(run, bank_time("2026-04-11", 10), "right_party_contact")
    with pytest.raises(DomainError, match="cannot be reached"):
        record(run, bank_time("2026-04-12", 9), target="contact", contact_index=0)


# --- letters and the visit ----------------------------------------------------------------


def test_entering_m3_sends_a_demand_letter_to_the_home_and_the_work_address_once() -> None:
    run = open_case(home_address="1 Home Road", work_address="2 Office Street")
    events = drive(run, bank_time("2026-05-14", 23))
    letters = [(local(a.at, SHANGHAI), a.target) for a in attempts(events) if a.channel == "letter"]
    assert letters == [("2026-05-05 08:00", "home_address"), ("2026-05-05 08:00", "work_address")]
    # calls go on in `letter`
    assert times(calls_to_debtor(events))[-1] == "2026-05-14 08:00"


def test_a_debtor_without_a_work_address_gets_one_letter() -> None:
    run = open_case(home_address="1 Home Road")
    events = drive(run, bank_time("2026-05-14", 23))
    assert [a.target for a in attempts(events) if a.channel == "letter"] == ["home_address"]


def test_stage_visit_schedules_exactly_one_field_visit() -> None:
    run = open_case(home_address="1 Home Road", work_address="2 Office Street")
    events = drive(run, bank_time("2026-06-04", 23))  # the day before M4
    assert run.state.stage == "visit"
    visits = [(local(a.at, SHANGHAI), a.target) for a in attempts(events) if a.channel == "visit"]
    # `visit` from 2026-05-15 00:00 (10 days after the letters); the visit the next day
    assert visits == [("2026-05-16 08:00", "home_address")]


# --- holds ----------------------------------------------------------------------------------


def test_cease_contact_stops_calls_sms_letters_and_visits() -> None:
    run = open_case(home_address="1 Home Road", contacts=TWO_CONTACTS)
    drive(run, bank_time("2026-03-10", 9))
    send(
        run,
        CeaseContact(actor=actor("collector"), reason="written request"),
        bank_time("2026-03-10", 10),
    )
    events = drive(run, bank_time("2026-06-04", 23))
    assert run.state.stage == "visit"  # the case moved on through M2 and M3
    assert attempts(events) == []
    with pytest.raises(DomainError) as refused:
        record(run, bank_time("2026-06-04", 12), "delivered", channel="sms")
    assert refused.value.rule == "contact_hold"


def test_a_dispute_outcome_puts_the_case_on_hold_until_a_supervisor_resolves_it() -> None:
    run = open_case()
    events = drive(
        run, bank_time("2026-03-25", 23), scripted(["delivered", "no_answer", "dispute"])
    )
    assert [(local(e.at, SHANGHAI), e.type) for e in events if e.type != "contact_attempted"][
        -1
    ] == (
        "2026-03-06 08:00",
        "hold_started",
    )
    assert of_type(events, HoldStarted)[0].kind == "dispute"
    assert times(attempts(events))[-1] == "2026-03-06 08:00"  # nothing after the dispute
    with pytest.raises(DomainError):
        record(run, bank_time("2026-03-25", 12))
    send(
        run,
        ResolveDispute(actor=actor("supervisor"), reason="verified"),
        bank_time("2026-03-26", 10),
    )
    after = drive(run, bank_time("2026-03-27", 23))
    assert times(calls_to_debtor(after)) == ["2026-03-26 10:00", "2026-03-27 08:00"]


def test_a_dispute_opened_by_override_stops_contact_too() -> None:
    run = open_case()
    drive(run, bank_time("2026-03-06", 9))
    send(
        run,
        OpenDispute(actor=actor("collector"), reason="wrong amount"),
        bank_time("2026-03-06", 10),
    )
    assert attempts(drive(run, bank_time("2026-04-30", 23))) == []


def test_a_pause_with_an_end_date_resumes_contact_that_morning() -> None:
    run = open_case()
    drive(run, bank_time("2026-03-10", 9))
    send(
        run,
        Pause(actor=actor(), reason="hospital", until=date(2026, 3, 20)),
        bank_time("2026-03-10", 10),
    )
    events = drive(run, bank_time("2026-03-21", 23))
    # the pause ends at the start of 2026-03-20; calls resume at 08:00
    assert times(calls_to_debtor(events)) == ["2026-03-20 08:00", "2026-03-21 08:00"]


def test_an_open_ended_pause_lasts_until_resumed() -> None:
    run = open_case()
    drive(run, bank_time("2026-03-10", 9))
    send(run, Pause(actor=actor(), reason="complaint review"), bank_time("2026-03-10", 10))
    assert attempts(drive(run, bank_time("2026-03-31", 23))) == []
    send(run, Resume(actor=actor(), reason="review done"), bank_time("2026-04-01", 10))
    assert times(calls_to_debtor(drive(run, bank_time("2026-04-01", 23)))) == ["2026-04-01 10:00"]


def test_a_promise_pauses_contact_until_two_days_after_its_date_then_the_case_resumes() -> None:
    run = open_case()
    drive(run, bank_time("2026-03-10", 9))
    promise = PromiseToPay(
        actor=actor("collector"), reason="on the phone", amount=D("500.00"), date=date(2026, 3, 15)
    )
    send(run, promise, bank_time("2026-03-10", 10))
    with pytest.raises(DomainError) as refused:
        record(run, bank_time("2026-03-12", 9))
    assert refused.value.rule == "contact_hold"
    events = drive(run, bank_time("2026-03-19", 23))
    # promised for 03-15; grace 2 days (03-16, 03-17): broken at 2026-03-18 00:00
    assert [local(e.at, SHANGHAI) for e in of_type(events, PromiseBroken)] == ["2026-03-18 00:00"]
    assert times(attempts(events)) == ["2026-03-18 08:00", "2026-03-19 08:00"]


# --- us-reg-f ---------------------------------------------------------------------------------


def test_the_shipped_us_reg_f_profile_carries_the_regulation_f_numbers() -> None:
    from arrears.policies import load_policy

    shipped = load_policy("us-reg-f").contact
    for field in (
        "window_start",
        "window_end",
        "max_calls_per_7_days",
        "quiet_days_after_conversation",
        "third_party_calls_per_contact_total",
    ):
        assert getattr(shipped, field) == getattr(US_REG_F.contact, field), field


def test_regulation_f_shuts_the_window_at_nine_in_the_evening() -> None:
    moment = at(KARACHI, "2026-02-28", 21)  # = 2026-03-01 00:00 in Shanghai
    assert in_window(moment, KARACHI, CN_CARD.contact)
    assert not in_window(moment, KARACHI, US_REG_F.contact)
    assert in_window(at(KARACHI, "2026-02-28", 20, 59), KARACHI, US_REG_F.contact)


@pytest.mark.parametrize(
    ("policy", "sent"),
    [(CN_CARD, "2026-02-28 21:00"), (US_REG_F, "2026-03-01 08:00")],
    ids=["cn-card", "us-reg-f"],
)
def test_a_reminder_due_at_nine_in_the_evening_waits_for_the_morning_under_regulation_f(
    policy: Policy, sent: str
) -> None:
    # the case opens at the bank's midnight, 21:00 the evening before in Karachi
    run = open_case(timezone=KARACHI, policy=policy)
    events = drive(run, bank_time("2026-03-02"), always("delivered"))
    assert times(attempts(events), KARACHI) == [sent]


@pytest.mark.parametrize(
    ("policy", "next_at"),
    [(CN_CARD, "2026-03-08 08:00"), (US_REG_F, "2026-03-12 08:00")],
    ids=["cn-card", "us-reg-f"],
)
def test_regulation_f_allows_at_most_seven_calls_in_seven_days(
    policy: Policy, next_at: str
) -> None:
    run = open_case(policy=policy)
    drive(run, bank_time("2026-03-05", 1))
    # seven calls in three days: 03-05 and 03-06 at 08:00, 10:00, 12:00; 03-07 at 08:00
    for day, hour in [(5, 8), (5, 10), (5, 12), (6, 8), (6, 10), (6, 12), (7, 8)]:
        record(run, bank_time(f"2026-03-0{day}", hour))
    # cn-card: tomorrow at 08:00; Regulation F: not before 7 days after the first of the
    # seven, 2026-03-05 08:00 + 7 days
    assert next_call(run)[0] == next_at


@pytest.mark.parametrize(
    ("policy", "next_at"),
    [(CN_CARD, "2026-03-07 08:00"), (US_REG_F, "2026-03-12 08:00")],
    ids=["cn-card", "us-reg-f"],
)
def test_regulation_f_makes_no_call_within_seven_days_after_a_conversation(
    policy: Policy, next_at: str
) -> None:
    run = open_case(policy=policy)
    # the first call, 2026-03-05 08:00, reaches the debtor
    drive(run, bank_time("2026-03-05", 9), scripted(["delivered", "right_party_contact"]))
    # cn-card: contactable, every other day; Regulation F: 7 days later
    assert next_call(run)[0] == next_at


def test_under_regulation_f_a_contact_answering_does_not_silence_calls_to_the_debtor() -> None:
    run = open_case(contacts="Wang Wu:friend:+8613800000011", policy=US_REG_F)
    drive(run, bank_time("2026-04-04", 23))
    # 04-05 08:00: the debtor does not answer; the registered contact does
    drive(run, bank_time("2026-04-05", 9), scripted(["no_answer", "third_party_contact"]))
    assert third_party_calls(run.events) == [("2026-04-05 08:00", 0)]
    assert next_call(run) == ("2026-04-06 08:00", "mobile")


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        (CN_CARD, ["2026-04-05 08:00", "2026-04-12 08:00", "2026-04-19 08:00", "2026-04-26 08:00"]),
        (US_REG_F, ["2026-04-05 08:00"]),
    ],
    ids=["cn-card", "us-reg-f"],
)
def test_regulation_f_calls_each_contact_only_once(policy: Policy, expected: list[str]) -> None:
    run = open_case(contacts="Wang Wu:friend:+8613800000011", policy=policy)
    events = drive(run, bank_time("2026-04-30", 23))
    assert [when for when, _ in third_party_calls(events)] == expected
    if policy is US_REG_F:
        with pytest.raises(DomainError, match="in all"):
            record(run, bank_time("2026-04-30", 12), target="contact", contact_index=0)


# --- what the record of an attempt must carry (POLICY §5) ------------------------------


def _attempt(channel: str, **fields: object) -> ContactAttempted:
    target = {"visit": "home_address", "letter": "home_address"}.get(channel, "debtor")
    return ContactAttempted.model_validate(
        {"seq": 7, "at": datetime(2026, 3, 5, 2, tzinfo=zone("UTC")), "channel": channel,
         "target": target, "outcome": "no_answer" if channel == "call" else "delivered",
         "planned_at": datetime(2026, 3, 5, 2, tzinfo=zone("UTC")), **fields}
    )  # fmt: skip


def test_a_call_without_a_recording_reference_is_a_gap_in_its_record() -> None:
    rules = ContactPolicy()
    assert record_gaps(_attempt("call", recording_ref="rec-1"), rules) == []
    assert record_gaps(_attempt("call"), rules) == ["a call without a recording reference"]
    assert record_gaps(_attempt("call", recording_ref=""), rules) != []


def test_a_field_visit_needs_two_different_collectors_or_the_profiles_number() -> None:
    pair = _attempt("visit", outcome="visited", collector_ids=("field-1", "field-2"))
    assert record_gaps(pair, ContactPolicy()) == []
    alone = _attempt("visit", outcome="visited", collector_ids=("field-1", "field-1"))
    assert record_gaps(alone, ContactPolicy()) == [
        "a field visit by 1 collector(s), at least 2 required"
    ]
    three = ContactPolicy(visit_collectors=3)
    assert record_gaps(pair, three) != []


def test_an_sms_or_a_letter_needs_neither_a_recording_nor_collectors() -> None:
    assert record_gaps(_attempt("sms"), ContactPolicy()) == []
    assert record_gaps(_attempt("letter"), ContactPolicy()) == []
