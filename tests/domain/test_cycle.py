"""The calendar rules through the decider (POLICY §2, §3): statements, interest, fees,
minimums, buckets, DPD, charge-off and the stage ladder.

Every expected number is worked by hand in the comments from POLICY.md, never copied
from a run. Unless a test says otherwise the case is `conftest`'s default:

    principal 10,000.00, interest 0, fees 0, credit limit 20,000.00,
    statement day 5, grace 20 days (D_k = the 25th),
    opened 2026-03-01 00:00 Asia/Shanghai, oldest unpaid due date 2026-02-25 with
    1,000.00 unpaid (bucket M0, stage reminder), last statement before opening 2026-02-05.

With no payments the default case runs like this (0.05 % a day = 0.0005):

    S1 2026-03-05  days 4 (03-01 -> 03-05, accrual from the opening day, not 02-05)
                   interest 10,000.00 x 0.0005 x 4 = 20.00
                   balance 10,020.00; minimum 10 % = 1,002.00; due together 2,002.00
                   bucket M1 (one statement date, 03-05, after 02-25), DPD 8
    D1 2026-03-25  checked 03-26 00:00: late fee 1 % x 2,002.00 = 20.02
    S2 2026-04-05  days 31 (March): bearing 10,020.00 (capitalised interest, no fees)
                   10,020.00 x 0.0005 x 31 = 155.31; interest 175.31; fees 20.02
                   balance 10,195.33; minimum 1,019.533 -> 1,019.53; due 3,021.53
                   bucket M2, DPD 39 (3 + 31 + 5)
    D2 2026-04-25  late fee 1 % x 3,021.53 = 30.2153 -> 30.22; fees 50.24
    S3 2026-05-05  days 30 (April): 10,175.31 x 0.0005 x 30 = 152.62965 -> 152.63
                   interest 327.94; balance 10,378.18; minimum 1,037.818 -> 1,037.82
                   due 4,059.35; bucket M3 (DPD 69): stage letter
    (2026-05-15    ten days of letter without payment or promise: stage visit)
    D3 2026-05-25  late fee 1 % x 4,059.35 = 40.5935 -> 40.59; fees 90.83
    S4 2026-06-05  days 31 (May): 10,327.94 x 0.0155 = 160.08307 -> 160.08
                   interest 488.02; balance 10,578.85; minimum 1,057.885 -> 1,057.89
                   (half-up: banker's rounding would give 1,057.88); due 5,117.24
                   bucket M4+ (DPD 100): stage outsourcing
    D4 2026-06-25  late fee 1 % x 5,117.24 = 51.1724 -> 51.17; fees 142.00
    S5 2026-07-05  days 30 (June): 10,488.02 x 0.015 = 157.3203 -> 157.32
                   interest 645.34; balance 10,787.34; minimum 1,078.73; due 6,195.97
                   bucket stays M4+ (no event)
    D5 2026-07-25  late fee 1 % x 6,195.97 = 61.9597 -> 61.96; fees 203.96
    S6 2026-08-05  days 31 (July): 10,645.34 x 0.0155 = 165.00277 -> 165.00
                   interest 810.34; balance 10,000 + 810.34 + 203.96 = 11,014.30
    2026-08-24     180 days after 02-25 (3 + 31 + 30 + 31 + 30 + 31 + 24): charge-off
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from domain.commands import AdvanceTime, PromiseToPay
from domain.cycle import scheduled
from domain.events import (
    BucketChanged,
    ChargedOff,
    Event,
    FeeCharged,
    InterestCharged,
    StageChanged,
    StatementIssued,
)
from domain.intake import open_case as opening
from domain.policy import CyclePolicy, Policy
from domain.simulation import CaseRun
from tests.domain.conftest import (
    STATE_JSON,
    actor,
    advance,
    bank_time,
    make_row,
    of_type,
    open_case,
    pay,
    send,
)

D = Decimal


def _late_fees(events: Iterable[Event]) -> list[FeeCharged]:
    return [e for e in of_type(events, FeeCharged) if e.kind == "late"]


def _over_limit_fees(events: Iterable[Event]) -> list[FeeCharged]:
    return [e for e in of_type(events, FeeCharged) if e.kind == "over_limit"]


# --- interest ---------------------------------------------------------------------------


def test_the_first_statement_charges_interest_only_from_the_day_the_case_opened() -> None:
    run = open_case()

    events = advance(run, bank_time("2026-03-05"))

    # S_(k-1) is 2026-02-05 but the case opened 2026-03-01, which is later: 4 days.
    # 10,000.00 x 0.0005 x 4 = 20.00
    [interest] = of_type(events, InterestCharged)
    assert (interest.days, interest.interest_bearing, interest.amount) == (
        4,
        D("10000.00"),
        D("20.00"),
    )
    assert interest.at == bank_time("2026-03-05")


def test_nothing_is_charged_before_the_statement_date_arrives() -> None:
    run = open_case()

    events = advance(run, bank_time("2026-03-04", 23, 59))

    assert events == []
    assert run.state.total == D("10000.00")


def test_interest_over_a_month_end_counts_every_day_of_the_month() -> None:
    run = open_case()

    events = advance(run, bank_time("2026-04-05"))

    # 2026-03-05 -> 2026-04-05 crosses 31 March: 31 days, not "one month of 30".
    # bearing = 10,000.00 principal + 20.00 interest capitalised at S1 (the 20.02 late fee
    # of 03-26 bears nothing): 10,020.00 x 0.0005 x 31 = 10,020.00 x 0.0155 = 155.31
    second = of_type(events, InterestCharged)[1]
    assert second.days == 31
    assert second.interest_bearing == D("10020.00")
    assert second.amount == D("155.31")
    assert run.state.interest == D("175.31")  # 20.00 + 155.31


def test_interest_over_a_leap_day_counts_29_february() -> None:
    # Statement day 15; the case opens 2028-02-01 (S_(k-1) = 2028-01-15) after missing
    # D = 2027-12-15 + 20 days = 2028-01-04.
    run = open_case(
        statement_day=15, oldest_unpaid_due_date="2028-01-04", at=bank_time("2028-02-01")
    )

    events = advance(run, bank_time("2028-03-15"))

    first, second = of_type(events, InterestCharged)
    # S 2028-02-15: 14 days from the opening day: 10,000.00 x 0.0005 x 14 = 70.00
    assert (first.days, first.amount) == (14, D("70.00"))
    # S 2028-03-15: 2028-02-15 -> 2028-03-15 is 29 days because of 29 February
    # (a common year has 28). 10,070.00 x 0.0005 x 29 = 146.015 -> half-up 146.02
    assert (second.days, second.interest_bearing, second.amount) == (
        29,
        D("10070.00"),
        D("146.02"),
    )
    # And the due date of the February statement counts the leap day too:
    # 2028-02-15 + 20 days = 2028-03-06 (2027 would give 03-07).
    statement = of_type(events, StatementIssued)[0]
    assert statement.due_date == date(2028, 3, 6)


def test_capitalised_interest_bears_interest_every_month_and_fees_never_do() -> None:
    run = open_case()

    events = advance(run, bank_time("2026-05-05"))

    interest = of_type(events, InterestCharged)
    # Compounding monthly (按月计收复利): each month's bearing is the principal plus all
    # interest capitalised so far, never the fees (20.02 + 30.22 by S3).
    #   S2: 10,020.00 x 0.0005 x 31 = 155.31         (simple: 155.00; with fees: 155.62)
    #   S3: 10,175.31 x 0.0005 x 30 = 152.62965 -> 152.63
    assert [e.interest_bearing for e in interest] == [
        D("10000.00"),
        D("10020.00"),
        D("10175.31"),
    ]
    assert [e.amount for e in interest] == [D("20.00"), D("155.31"), D("152.63")]
    assert run.state.fees == D("50.24")  # 20.02 + 30.22, untouched by interest


# --- over-limit fee ---------------------------------------------------------------------


def test_an_over_limit_balance_pays_at_least_the_minimum_over_limit_fee() -> None:
    run = open_case(credit_limit="10000.00")

    events = advance(run, bank_time("2026-03-05"))

    # balance after interest 10,020.00; excess 20.00; 5 % = 1.00 < 5.00 minimum -> 5.00
    [fee] = _over_limit_fees(events)
    assert (fee.basis, fee.amount) == (D("20.00"), D("5.00"))
    # The fee is on the statement, and in its minimum: 10 % x 10,025.00 = 1,002.50
    [statement] = of_type(events, StatementIssued)
    assert statement.balance.fees == D("5.00")
    assert statement.balance.total == D("10025.00")
    assert statement.minimum == D("1002.50")


def test_the_over_limit_fee_is_five_percent_of_the_excess_above_the_minimum() -> None:
    run = open_case(credit_limit="9000.00")

    events = advance(run, bank_time("2026-03-05"))

    # excess = 10,020.00 - 9,000.00 = 1,020.00; 5 % = 51.00 (> 5.00)
    [fee] = _over_limit_fees(events)
    assert (fee.basis, fee.amount) == (D("1020.00"), D("51.00"))
    # minimum 10 % x (10,020.00 + 51.00) = 1,007.10
    assert of_type(events, StatementIssued)[0].minimum == D("1007.10")


def test_a_balance_exactly_at_the_credit_limit_pays_no_over_limit_fee() -> None:
    run = open_case(credit_limit="10020.00")  # the balance after S1's interest

    events = advance(run, bank_time("2026-03-05"))

    assert _over_limit_fees(events) == []


# --- minimum payment --------------------------------------------------------------------


def test_a_new_minimum_is_ten_percent_of_the_statement_balance_on_top_of_earlier_ones() -> None:
    run = open_case()

    events = advance(run, bank_time("2026-04-05"))

    first, second = of_type(events, StatementIssued)
    # S1: 10 % x 10,020.00 = 1,002.00; with the 1,000.00 of 02-25 still due: 2,002.00
    assert (first.minimum, first.minimum_due_total) == (D("1002.00"), D("2002.00"))
    assert first.due_date == date(2026, 3, 25)
    # S2: 10 % x 10,195.33 = 1,019.533 -> 1,019.53; together 3,021.53
    assert (second.minimum, second.minimum_due_total) == (D("1019.53"), D("3021.53"))
    assert second.balance.total == D("10195.33")


def test_the_minimum_is_rounded_half_up_when_charged() -> None:
    run = open_case()

    events = advance(run, bank_time("2026-06-05"))

    # S4 balance 10,578.85 (table above); 10 % = 1,057.885 -> half-up 1,057.89
    # (round-half-even would print 1,057.88)
    fourth = of_type(events, StatementIssued)[3]
    assert fourth.balance.total == D("10578.85")
    assert fourth.minimum == D("1057.89")


def test_the_minimums_due_together_are_cut_down_to_fit_the_balance() -> None:
    # The whole balance is already due: principal 1,000.00, 1,000.00 unpaid.
    run = open_case(principal="1000.00", unpaid_minimum="1000.00")

    events = advance(run, bank_time("2026-04-05"))

    first, second = of_type(events, StatementIssued)
    # S1: interest 1,000.00 x 0.0005 x 4 = 2.00; balance 1,002.00; 10 % would be 100.20,
    # but 1,000.00 is already due, so the new one is cut to 1,002.00 - 1,000.00 = 2.00
    assert (first.minimum, first.minimum_due_total) == (D("2.00"), D("1002.00"))
    # D1: late fee 1 % x 1,002.00 = 10.02
    # S2: 1,002.00 x 0.0005 x 31 = 15.531 -> 15.53; balance 1,000 + 17.53 + 10.02 = 1,027.55
    # 10 % = 102.755 -> 102.76, cut to 1,027.55 - 1,002.00 = 25.55
    assert second.balance.total == D("1027.55")
    assert (second.minimum, second.minimum_due_total) == (D("25.55"), D("1027.55"))


# --- late fee ---------------------------------------------------------------------------


def test_the_late_fee_is_one_percent_of_all_unpaid_minimums_together() -> None:
    run = open_case()

    before = advance(run, bank_time("2026-03-25", 23, 59))
    events = advance(run, bank_time("2026-03-26"))

    assert _late_fees(before) == []  # the due date itself is not late yet
    # Unpaid at D1: 1,000.00 (02-25) + 1,002.00 (03-25) = 2,002.00; 1 % = 20.02
    # (this cycle's alone would give 10.02, the earlier one alone 10.00)
    [fee] = _late_fees(events)
    assert (fee.basis, fee.amount) == (D("2002.00"), D("20.02"))
    assert fee.at == bank_time("2026-03-26")  # 00:00 the day after the due date


def test_the_late_fee_is_at_least_ten_yuan() -> None:
    run = open_case(principal="3000.00", unpaid_minimum="100.00")

    events = advance(run, bank_time("2026-03-26"))

    # S1: 3,000.00 x 0.0005 x 4 = 6.00; minimum 10 % x 3,006.00 = 300.60
    # unpaid at D1 100.00 + 300.60 = 400.60; 1 % = 4.006 -> 4.01 < 10.00 -> 10.00
    [fee] = _late_fees(events)
    assert (fee.basis, fee.amount) == (D("400.60"), D("10.00"))


def test_the_late_fee_counts_only_the_minimum_left_unpaid_after_payments() -> None:
    run = open_case()
    advance(run, bank_time("2026-03-05"))
    # Paid on the due date itself, a minute before the check: it counts.
    pay(run, "502.00", bank_time("2026-03-25", 23, 59))

    events = advance(run, bank_time("2026-03-26"))

    # 2,002.00 - 502.00 = 1,500.00 left unpaid; 1 % = 15.00
    [fee] = _late_fees(events)
    assert (fee.basis, fee.amount) == (D("1500.00"), D("15.00"))


def test_a_bank_can_charge_three_percent_with_a_thirty_yuan_minimum() -> None:
    policy = Policy(cycle=CyclePolicy(late_fee_rate=D("0.03"), late_fee_minimum=D("30.00")))
    large = open_case(policy=policy)
    small = open_case(policy=policy, principal="3000.00", unpaid_minimum="100.00")

    [large_fee] = _late_fees(advance(large, bank_time("2026-03-26")))
    [small_fee] = _late_fees(advance(small, bank_time("2026-03-26")))

    # 3 % x 2,002.00 = 60.06
    assert large_fee.amount == D("60.06")
    # 3 % x 400.60 = 12.018 -> 12.02 < 30.00 -> 30.00
    assert small_fee.amount == D("30.00")


def test_a_late_fee_is_charged_at_each_missed_due_date_and_bears_no_interest() -> None:
    run = open_case()

    events = advance(run, bank_time("2026-04-26"))

    # D1: 1 % x 2,002.00 = 20.02; D2: 1 % x 3,021.53 = 30.2153 -> 30.22
    assert [(f.basis, f.amount) for f in _late_fees(events)] == [
        (D("2002.00"), D("20.02")),
        (D("3021.53"), D("30.22")),
    ]
    assert run.state.fees == D("50.24")


# --- buckets and DPD --------------------------------------------------------------------


def test_the_bucket_rises_one_step_at_each_statement_date_up_to_m4_plus() -> None:
    run = open_case()

    early = advance(run, bank_time("2026-03-04", 23, 59))
    events = advance(run, bank_time("2026-07-05"))

    assert of_type(early, BucketChanged) == []  # M0 until the next statement date
    # DPD from 2026-02-25: 03-05 -> 8; 04-05 -> 8 + 31 = 39; 05-05 -> 39 + 30 = 69;
    # 06-05 -> 69 + 31 = 100. At 07-05 n = 5, still reported as M4+: no change.
    changes = of_type(events, BucketChanged)
    assert [(c.at, c.previous, c.bucket, c.dpd) for c in changes] == [
        (bank_time("2026-03-05"), "M0", "M1", 8),
        (bank_time("2026-04-05"), "M1", "M2", 39),
        (bank_time("2026-05-05"), "M2", "M3", 69),
        (bank_time("2026-06-05"), "M3", "M4+", 100),
    ]
    assert all(c.oldest_unpaid_due_date == date(2026, 2, 25) for c in changes)
    assert (run.state.bucket, run.state.dpd) == (4, 100)


def test_a_case_opened_several_statements_after_its_missed_due_date_starts_in_that_bucket() -> None:
    # Missed 2026-01-25; statements 02-05 and 03-05 have passed by 03-06: M2, DPD
    # 6 (Jan 26-31) + 28 (Feb) + 6 = 40.
    run = open_case(oldest_unpaid_due_date="2026-01-25", at=bank_time("2026-03-06"))

    [change] = of_type(run.events, BucketChanged)
    assert (change.bucket, change.dpd) == ("M2", 40)
    assert run.state.stage == "phone"


def test_the_account_is_charged_off_at_180_days_past_due_exactly_once() -> None:
    run = open_case()

    before = advance(run, bank_time("2026-08-23", 23, 59))
    at = advance(run, bank_time("2026-08-24"))
    later = advance(run, bank_time("2027-03-01"))

    assert of_type(before, ChargedOff) == []
    # 2026-02-25 + 180 days = 2026-08-24; balance then is S6's 11,014.30 (table above)
    [charged_off] = of_type(at, ChargedOff)
    assert charged_off.at == bank_time("2026-08-24")
    assert (charged_off.dpd, charged_off.balance) == (180, D("11014.30"))
    assert run.state.charged_off
    # Exactly once, and collection goes on: statements keep coming, the case is open.
    assert of_type(later, ChargedOff) == []
    assert of_type(later, StatementIssued) != []
    assert not run.state.closed


def test_a_case_opened_beyond_180_days_past_due_is_charged_off_when_it_opens() -> None:
    # Missed 2025-08-25; opened 2026-03-06: DPD 6 (Aug) + 30 + 31 + 30 + 31 + 31 + 28 + 6
    # = 193. The charge-off is due already; it cannot be dated before the case existed.
    opened = bank_time("2026-03-06")
    run = open_case(oldest_unpaid_due_date="2025-08-25", at=opened)

    [charged_off] = of_type(run.events, ChargedOff)
    assert charged_off.at == opened
    assert charged_off.dpd == 193
    times = [e.at for e in run.events]
    assert times == sorted(times)


# --- stage ladder -----------------------------------------------------------------------


def _stage_moves(events: Iterable[Event]) -> list[tuple[datetime, str, str]]:
    return [(s.at, s.previous, s.stage) for s in of_type(events, StageChanged)]


def test_the_stage_follows_the_bucket_from_reminder_to_outsourcing() -> None:
    run = open_case()

    events = advance(run, bank_time("2026-06-05"))

    assert run.events[0].type == "case_opened" and run.state.stage == "outsourcing"
    assert _stage_moves(events) == [
        (bank_time("2026-03-05"), "reminder", "phone"),  # M1
        (bank_time("2026-05-05"), "phone", "letter"),  # M3
        (bank_time("2026-05-15"), "letter", "visit"),  # 10 days without an answer
        (bank_time("2026-06-05"), "visit", "outsourcing"),  # M4+
    ]


def test_m2_keeps_the_phone_stage() -> None:
    run = open_case()
    advance(run, bank_time("2026-03-05"))

    events = advance(run, bank_time("2026-04-05"))

    assert of_type(events, BucketChanged)[0].bucket == "M2"
    assert of_type(events, StageChanged) == []
    assert run.state.stage == "phone"


def test_the_letter_turns_into_a_visit_only_after_ten_full_days() -> None:
    run = open_case()
    advance(run, bank_time("2026-05-05"))

    still_letter = advance(run, bank_time("2026-05-14", 23, 59))
    events = advance(run, bank_time("2026-05-15"))

    assert of_type(still_letter, StageChanged) == []
    assert _stage_moves(events) == [(bank_time("2026-05-15"), "letter", "visit")]


def test_a_promise_inside_the_letter_window_keeps_the_letter_stage() -> None:
    run = open_case()
    advance(run, bank_time("2026-05-05"))
    send(
        run,
        PromiseToPay(
            actor=actor("collector"),
            reason="debtor called",
            amount=D("100.00"),
            date=date(2026, 5, 20),
        ),
        bank_time("2026-05-10", 10),
    )

    events = advance(run, bank_time("2026-06-04", 23, 59))

    # Even broken (at 05-23), a promise was an answer to the letter: no visit.
    assert [e.type for e in events].count("promise_broken") == 1
    assert of_type(events, StageChanged) == []
    assert run.state.stage == "letter"
    moved = advance(run, bank_time("2026-06-05"))
    assert _stage_moves(moved) == [(bank_time("2026-06-05"), "letter", "outsourcing")]


def test_a_payment_inside_the_letter_window_keeps_the_letter_stage() -> None:
    run = open_case()
    advance(run, bank_time("2026-05-05"))
    pay(run, "100.00", bank_time("2026-05-14", 12))

    events = advance(run, bank_time("2026-06-04", 23, 59))

    assert of_type(events, StageChanged) == []
    assert run.state.stage == "letter"


def test_a_payment_before_the_letter_was_sent_is_no_answer_to_it() -> None:
    run = open_case()
    advance(run, bank_time("2026-05-04"))
    pay(run, "100.00", bank_time("2026-05-04", 12))  # M2, the day before the letter

    events = advance(run, bank_time("2026-05-15"))

    assert _stage_moves(events)[-1] == (bank_time("2026-05-15"), "letter", "visit")


def test_a_backward_roll_moves_the_bucket_back_but_never_the_stage() -> None:
    run = open_case()
    advance(run, bank_time("2026-03-27"))  # M1, phone; both 02-25 and 03-25 now missed

    # 1,000.00 clears the oldest minimum (02-25). The oldest unpaid due date becomes
    # 03-25, and no statement date has passed since: M0, DPD 2 (03-26, 03-27).
    events = pay(run, "1000.00", bank_time("2026-03-27", 12))

    [roll] = of_type(events, BucketChanged)
    assert (roll.previous, roll.bucket, roll.dpd) == ("M1", "M0", 2)
    assert roll.oldest_unpaid_due_date == date(2026, 3, 25)
    assert of_type(events, StageChanged) == []
    assert run.state.stage == "phone"
    # The next statement date makes it M1 again (from 03-25: 04-05); the stage is
    # already phone, so nothing moves.
    later = advance(run, bank_time("2026-04-05"))
    assert [c.bucket for c in of_type(later, BucketChanged)] == ["M1"]
    assert of_type(later, StageChanged) == []


def test_a_backward_roll_from_m4_keeps_the_case_outsourced() -> None:
    run = open_case()
    advance(run, bank_time("2026-06-10"))  # M4+, placed at the first hand

    # Dues then: 02-25 1,000.00, 03-25 1,002.00, 04-25 1,019.53, 05-25 1,037.82 (all
    # missed) and 06-25 1,057.89. Paying 1,000.00 + 1,002.00 = 2,002.00 leaves 04-25 as the
    # oldest: statement dates 05-05 and 06-05 since then: M2, DPD 5 + 31 + 10 = 46.
    events = pay(run, "2002.00", bank_time("2026-06-10", 12))

    [roll] = of_type(events, BucketChanged)
    assert (roll.previous, roll.bucket, roll.dpd) == ("M4+", "M2", 46)
    assert run.state.stage == "outsourcing"
    assert run.state.placement is not None


def test_the_charge_off_date_moves_with_the_oldest_unpaid_due_date() -> None:
    run = open_case()
    advance(run, bank_time("2026-03-27"))
    pay(run, "1000.00", bank_time("2026-03-27", 12))  # oldest unpaid is now 03-25

    # 2026-03-25 + 180 days = 2026-09-21 (6 + 30 + 31 + 30 + 31 + 31 + 21)
    assert of_type(advance(run, bank_time("2026-09-20", 23, 59)), ChargedOff) == []
    [charged_off] = of_type(advance(run, bank_time("2026-09-21")), ChargedOff)
    assert charged_off.dpd == 180
    assert date(2026, 3, 25) + timedelta(days=180) == date(2026, 9, 21)


def test_the_statement_falls_at_midnight_in_the_banks_time_zone_whatever_zone_now_is_in() -> None:
    utc = ZoneInfo("UTC")
    shanghai = open_case()
    london_bank = open_case(policy=Policy(cycle=CyclePolicy(bank_timezone="Europe/London")))

    # 2026-03-04 16:00 UTC is 2026-03-05 00:00 in Shanghai (UTC+8), but still 16:00 on
    # 03-04 in London (UTC+0 in March): only the Shanghai bank has issued S1.
    moment = datetime(2026, 3, 4, 16, 0, tzinfo=utc)
    assert len(of_type(advance(shanghai, moment), StatementIssued)) == 1
    assert of_type(advance(london_bank, moment), StatementIssued) == []
    # The London bank's statement comes at 00:00 London time on 03-05.
    assert (
        of_type(advance(london_bank, datetime(2026, 3, 4, 23, 59, tzinfo=utc)), StatementIssued)
        == []
    )
    [statement] = of_type(
        advance(london_bank, datetime(2026, 3, 5, 0, 0, tzinfo=utc)), StatementIssued
    )
    # opened 2026-03-01 00:00 Shanghai = 2026-02-28 16:00 London: the case opened on
    # 02-28 London time, so 5 days of interest: 10,000.00 x 0.0005 x 5 = 25.00
    assert statement.balance.interest == D("25.00")


def test_the_letter_deadline_is_the_same_after_the_state_is_serialised_across_dst() -> None:
    """A case carried across continue-as-new is serialised; its deadlines must not move.
    Bank in New York: the statement of 5 March (a bank-local midnight) moves the case to
    `letter`; daylight saving starts on 8 March, inside the 10-day response window."""
    policy = Policy(cycle=CyclePolicy(bank_timezone="America/New_York"))
    run = CaseRun(policy, "case-DST")
    placed = make_row(
        statement_day=5, oldest_unpaid_due_date="2025-12-25", timezone="America/New_York"
    )
    run.apply(opening(placed), datetime(2026, 3, 2, 5, 0, tzinfo=UTC))  # 00:00 in New York
    run.apply(AdvanceTime(), datetime(2026, 3, 5, 6, 0, tzinfo=UTC))
    assert run.state.stage == "letter"
    carried = STATE_JSON.validate_json(STATE_JSON.dump_json(run.state))
    before = [i for i in scheduled(run.state, policy) if i.rule == "letter_window"]
    after = [i for i in scheduled(carried, policy) if i.rule == "letter_window"]
    assert before == after and len(before) == 1
