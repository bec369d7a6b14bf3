"""The billing calendar and cycle charges (POLICY §2).

Policy numbers are passed in as the tests' own arguments (the `cn-card` defaults, and the
3 %/30.00 late-fee variant) because a bank can change every one of them. Expected
numbers are worked by hand in the comments, never copied from a run.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.billing import (
    accrual_days,
    cycle_interest,
    due_date,
    late_fee,
    new_minimum,
    next_statement_date,
    over_limit_fee,
    previous_statement_date,
    statement_date_in,
)
from domain.money import ZERO, Balance, allocate

D = Decimal

# cn-card defaults (POLICY §2), as arguments: not the product's constants.
DAILY_RATE = D("0.0005")  # 0.05 % per day, 万分之五
GRACE_DAYS = 20
OVER_LIMIT_RATE, OVER_LIMIT_MINIMUM = D("0.05"), D("5.00")
LATE_RATE, LATE_MINIMUM = D("0.01"), D("10.00")
ALT_LATE_RATE, ALT_LATE_MINIMUM = D("0.03"), D("30.00")  # "some banks: 3 %, minimum 30.00"
MINIMUM_RATE = D("0.10")


# --- statement dates --------------------------------------------------------------------


def test_the_statement_date_falls_on_the_statement_day_of_the_month() -> None:
    assert statement_date_in(2026, 2, 28) == date(2026, 2, 28)
    assert statement_date_in(2026, 1, 1) == date(2026, 1, 1)


@pytest.mark.parametrize("day", [0, 29, 31, -1])
def test_a_statement_day_outside_1_to_28_is_refused(day: int) -> None:
    with pytest.raises(ValueError, match="statement_day"):
        statement_date_in(2026, 1, day)


def test_the_next_statement_date_is_strictly_after_the_given_date() -> None:
    # on the statement date itself, the next one is a month later
    assert next_statement_date(date(2026, 1, 15), 15) == date(2026, 2, 15)
    assert next_statement_date(date(2026, 1, 14), 15) == date(2026, 1, 15)
    assert next_statement_date(date(2026, 1, 16), 15) == date(2026, 2, 15)


def test_the_next_statement_date_crosses_a_year_end() -> None:
    assert next_statement_date(date(2026, 12, 15), 15) == date(2027, 1, 15)
    assert next_statement_date(date(2026, 12, 31), 1) == date(2027, 1, 1)


def test_the_previous_statement_date_is_on_or_before_the_given_date() -> None:
    assert previous_statement_date(date(2026, 3, 15), 15) == date(2026, 3, 15)
    assert previous_statement_date(date(2026, 3, 14), 15) == date(2026, 2, 15)
    assert previous_statement_date(date(2026, 3, 31), 28) == date(2026, 3, 28)


def test_the_previous_statement_date_crosses_a_year_start() -> None:
    assert previous_statement_date(date(2027, 1, 10), 15) == date(2026, 12, 15)
    assert previous_statement_date(date(2027, 1, 1), 2) == date(2026, 12, 2)


def test_statement_day_28_exists_in_february_of_a_common_year() -> None:
    # 2027 is not a leap year: 28 February is its last day and still a statement date
    assert next_statement_date(date(2027, 1, 28), 28) == date(2027, 2, 28)
    assert next_statement_date(date(2027, 2, 28), 28) == date(2027, 3, 28)


# --- due dates ----------------------------------------------------------------------------


def test_the_due_date_of_a_late_month_statement_falls_in_the_next_month() -> None:
    # 2026-01-28 + 20: 3 days to 31 January, 17 more into February -> 2026-02-17
    assert due_date(statement_date_in(2026, 1, 28), GRACE_DAYS) == date(2026, 2, 17)


def test_the_due_date_crosses_a_year_end() -> None:
    # 2026-12-15 + 20: 16 days to 31 December, 4 more into January -> 2027-01-04
    assert due_date(date(2026, 12, 15), GRACE_DAYS) == date(2027, 1, 4)


def test_the_due_date_counts_the_leap_day() -> None:
    # 2028 is a leap year. 8 + 20 = 28: still in February
    assert due_date(date(2028, 2, 8), GRACE_DAYS) == date(2028, 2, 28)
    # 15 February + 14 = 29 February, + 6 more = 6 March
    assert due_date(date(2028, 2, 15), GRACE_DAYS) == date(2028, 3, 6)
    # the same in 2027 (no 29th): 15 February + 13 = 28 February, + 7 = 7 March
    assert due_date(date(2027, 2, 15), GRACE_DAYS) == date(2027, 3, 7)


def test_grace_days_are_a_parameter_and_may_be_zero_but_not_negative() -> None:
    assert due_date(date(2026, 5, 10), 25) == date(2026, 6, 4)  # 21 to 31 May, 4 into June
    assert due_date(date(2026, 5, 10), 0) == date(2026, 5, 10)
    with pytest.raises(ValueError, match="grace_days"):
        due_date(date(2026, 5, 10), -1)


# --- interest -----------------------------------------------------------------------------


def test_interest_accrues_over_a_month_end() -> None:
    # 2026-01-28 -> 2026-02-28: 3 days to 31 January + 28 days of February = 31 days
    days = accrual_days(date(2026, 1, 28), date(2026, 2, 28))
    assert days == 31
    # 10,000.00 x 0.0005 = 5.00 a day; x 31 = 155.00
    assert cycle_interest(D("10000.00"), days, DAILY_RATE) == D("155.00")


def test_interest_accrues_over_a_leap_day() -> None:
    # 2028-02-10 -> 2028-03-10: February 2028 has 29 days, so 29 days
    days = accrual_days(date(2028, 2, 10), date(2028, 3, 10))
    assert days == 29
    # 5.00 a day x 29 = 145.00
    assert cycle_interest(D("10000.00"), days, DAILY_RATE) == D("145.00")
    # one year earlier February has 28 days: 5.00 x 28 = 140.00
    assert accrual_days(date(2027, 2, 10), date(2027, 3, 10)) == 28
    assert cycle_interest(D("10000.00"), 28, DAILY_RATE) == D("140.00")


def test_interest_accrues_from_the_opening_day_when_the_case_opened_mid_cycle() -> None:
    # S_(k-1) = 2026-01-28, opened 2026-02-10, S_k = 2026-02-28: the later start counts
    previous, opened, statement = date(2026, 1, 28), date(2026, 2, 10), date(2026, 2, 28)
    days = accrual_days(max(previous, opened), statement)
    assert days == 18  # 28 - 10
    # 5.00 a day x 18 = 90.00
    assert cycle_interest(D("10000.00"), days, DAILY_RATE) == D("90.00")


def test_interest_is_rounded_half_up_once_when_charged() -> None:
    # 1,234.56 x 30 = 37,036.80; x 0.0005 = 18.5184 -> 18.52
    assert cycle_interest(D("1234.56"), 30, DAILY_RATE) == D("18.52")
    # 5.00 x 0.0005 x 10 = 0.025 exactly: half-up gives 0.03 (banker's would give 0.02)
    assert cycle_interest(D("5.00"), 10, DAILY_RATE) == D("0.03")


def test_capitalised_interest_bears_interest_the_next_cycle() -> None:
    # cycle 1: 2026-01-28 -> 2026-02-28, 31 days on 10,000.00 -> 155.00 (worked above)
    start = Balance(principal=D("10000.00"), interest=ZERO, fees=D("50.00"))
    first = cycle_interest(start.interest_bearing, 31, DAILY_RATE)
    assert first == D("155.00")
    capitalised = Balance(
        principal=start.principal, interest=start.interest + first, fees=start.fees
    )
    # cycle 2: 2026-02-28 -> 2026-03-28 = 28 days on 10,000.00 + 155.00 = 10,155.00
    # (the 50.00 of fees bear nothing). 10,155.00 x 0.0005 = 5.0775 a day; x 28 = 142.17
    days = accrual_days(date(2026, 2, 28), date(2026, 3, 28))
    assert days == 28
    second = cycle_interest(capitalised.interest_bearing, days, DAILY_RATE)
    assert second == D("142.17")
    # simple interest would have been 5.00 x 28 = 140.00; compounding adds 155 x 0.014 = 2.17
    assert second - cycle_interest(start.principal, days, DAILY_RATE) == D("2.17")


def test_paid_down_interest_stops_bearing_interest() -> None:
    # 10,000.00 principal + 155.00 interest; paying 155.00 clears the interest first
    # (after fees, here none), so the next cycle bears on 10,000.00 only: 5.00 x 28 = 140.00
    after, _ = allocate(Balance(principal=D("10000"), interest=D("155"), fees=ZERO), D("155"))
    assert cycle_interest(after.interest_bearing, 28, DAILY_RATE) == D("140.00")


def test_no_interest_on_a_zero_balance_or_over_zero_days() -> None:
    assert cycle_interest(ZERO, 31, DAILY_RATE) == ZERO
    assert cycle_interest(D("10000.00"), 0, DAILY_RATE) == ZERO
    assert accrual_days(date(2026, 2, 28), date(2026, 2, 28)) == 0


def test_the_daily_rate_is_a_parameter() -> None:
    # a bank at 0.04 % a day: 10,000.00 x 0.0004 = 4.00 a day; x 31 = 124.00
    assert cycle_interest(D("10000.00"), 31, D("0.0004")) == D("124.00")


def test_interest_refuses_negative_inputs_and_a_cycle_that_runs_backwards() -> None:
    with pytest.raises(ValueError, match="days"):
        cycle_interest(D("1.00"), -1, DAILY_RATE)
    with pytest.raises(ValueError, match="interest_bearing"):
        cycle_interest(D("-1.00"), 1, DAILY_RATE)
    with pytest.raises(ValueError, match="daily_rate"):
        cycle_interest(D("1.00"), 1, 0.0005)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="before"):
        accrual_days(date(2026, 2, 28), date(2026, 1, 28))


# --- over-limit fee -----------------------------------------------------------------------


def test_no_over_limit_fee_at_or_under_the_limit() -> None:
    limit = D("10000.00")
    assert over_limit_fee(D("10000.00"), limit, OVER_LIMIT_RATE, OVER_LIMIT_MINIMUM) == ZERO
    assert over_limit_fee(D("9999.99"), limit, OVER_LIMIT_RATE, OVER_LIMIT_MINIMUM) == ZERO
    assert over_limit_fee(ZERO, limit, OVER_LIMIT_RATE, OVER_LIMIT_MINIMUM) == ZERO


def test_a_small_excess_draws_the_5_00_minimum_over_limit_fee() -> None:
    limit = D("10000.00")
    # excess 50.00 x 5 % = 2.50, under the 5.00 minimum
    assert over_limit_fee(D("10050.00"), limit, OVER_LIMIT_RATE, OVER_LIMIT_MINIMUM) == D("5.00")
    # excess 0.01 x 5 % = 0.0005 -> 0.00, still the 5.00 minimum
    assert over_limit_fee(D("10000.01"), limit, OVER_LIMIT_RATE, OVER_LIMIT_MINIMUM) == D("5.00")
    # excess 100.00 x 5 % = 5.00 exactly: the minimum and the rate agree
    assert over_limit_fee(D("10100.00"), limit, OVER_LIMIT_RATE, OVER_LIMIT_MINIMUM) == D("5.00")


def test_a_large_excess_draws_5_percent_of_it() -> None:
    limit = D("10000.00")
    # excess 300.00 x 5 % = 15.00
    assert over_limit_fee(D("10300.00"), limit, OVER_LIMIT_RATE, OVER_LIMIT_MINIMUM) == D("15.00")
    # excess 123.45 x 5 % = 6.1725 -> 6.17
    assert over_limit_fee(D("10123.45"), limit, OVER_LIMIT_RATE, OVER_LIMIT_MINIMUM) == D("6.17")
    # excess 100.10 x 5 % = 5.005 -> 5.01 (half-up)
    assert over_limit_fee(D("10100.10"), limit, OVER_LIMIT_RATE, OVER_LIMIT_MINIMUM) == D("5.01")


# --- late fee -----------------------------------------------------------------------------


def test_no_late_fee_when_no_minimum_is_left_unpaid() -> None:
    assert late_fee(ZERO, LATE_RATE, LATE_MINIMUM) == ZERO
    assert late_fee(ZERO, ALT_LATE_RATE, ALT_LATE_MINIMUM) == ZERO


def test_a_small_unpaid_minimum_draws_the_10_00_minimum_late_fee() -> None:
    # 300.00 x 1 % = 3.00, under the 10.00 minimum
    assert late_fee(D("300.00"), LATE_RATE, LATE_MINIMUM) == D("10.00")
    # 0.01 x 1 % = 0.0001 -> 0.00, still 10.00
    assert late_fee(D("0.01"), LATE_RATE, LATE_MINIMUM) == D("10.00")
    # 1,000.00 x 1 % = 10.00 exactly
    assert late_fee(D("1000.00"), LATE_RATE, LATE_MINIMUM) == D("10.00")


def test_a_large_unpaid_minimum_draws_1_percent_of_it() -> None:
    # 1,500.00 x 1 % = 15.00
    assert late_fee(D("1500.00"), LATE_RATE, LATE_MINIMUM) == D("15.00")
    # 1,234.50 x 1 % = 12.345 -> 12.35 (half-up)
    assert late_fee(D("1234.50"), LATE_RATE, LATE_MINIMUM) == D("12.35")


def test_the_3_percent_30_00_late_fee_variant() -> None:
    # 500.00 x 3 % = 15.00, under the 30.00 minimum
    assert late_fee(D("500.00"), ALT_LATE_RATE, ALT_LATE_MINIMUM) == D("30.00")
    # 1,000.00 x 3 % = 30.00 exactly
    assert late_fee(D("1000.00"), ALT_LATE_RATE, ALT_LATE_MINIMUM) == D("30.00")
    # 2,000.00 x 3 % = 60.00
    assert late_fee(D("2000.00"), ALT_LATE_RATE, ALT_LATE_MINIMUM) == D("60.00")


def test_fees_refuse_negative_or_float_inputs() -> None:
    with pytest.raises(ValueError, match="unpaid_minimum"):
        late_fee(D("-1.00"), LATE_RATE, LATE_MINIMUM)
    with pytest.raises(ValueError, match="rate"):
        late_fee(D("1.00"), 0.01, LATE_MINIMUM)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="balance_total"):
        over_limit_fee(D("-1.00"), D("0"), OVER_LIMIT_RATE, OVER_LIMIT_MINIMUM)


# --- minimum payment ----------------------------------------------------------------------


def test_the_new_minimum_is_10_percent_of_the_statement_balance() -> None:
    # 5,000.00 x 10 % = 500.00
    assert new_minimum(D("5000.00"), MINIMUM_RATE, ZERO) == D("500.00")
    # 1,234.55 x 10 % = 123.455 -> 123.46 (half-up)
    assert new_minimum(D("1234.55"), MINIMUM_RATE, ZERO) == D("123.46")


def test_earlier_unpaid_minimums_leave_the_new_one_whole_while_there_is_room() -> None:
    # 4,000.00 earlier + 500.00 new = 4,500.00 <= 5,000.00
    assert new_minimum(D("5000.00"), MINIMUM_RATE, D("4000.00")) == D("500.00")
    # 4,500.00 + 500.00 = 5,000.00: exactly the balance, still whole
    assert new_minimum(D("5000.00"), MINIMUM_RATE, D("4500.00")) == D("500.00")


def test_the_new_minimum_is_cut_so_all_minimums_never_exceed_the_balance() -> None:
    # 4,800.00 earlier: room 5,000.00 - 4,800.00 = 200.00 < 500.00
    assert new_minimum(D("5000.00"), MINIMUM_RATE, D("4800.00")) == D("200.00")
    # 4,999.99 earlier: room 0.01
    assert new_minimum(D("5000.00"), MINIMUM_RATE, D("4999.99")) == D("0.01")
    # earlier minimums already equal the balance: nothing new
    assert new_minimum(D("5000.00"), MINIMUM_RATE, D("5000.00")) == ZERO


def test_the_new_minimum_is_never_negative() -> None:
    # earlier minimums above the balance (should not happen): 0.00, not -100.00
    assert new_minimum(D("5000.00"), MINIMUM_RATE, D("5100.00")) == ZERO


def test_a_zero_statement_balance_has_a_zero_minimum() -> None:
    assert new_minimum(ZERO, MINIMUM_RATE, ZERO) == ZERO


# --- calendar properties ------------------------------------------------------------------

days_in_range = st.dates(min_value=date(1990, 1, 1), max_value=date(2200, 12, 31))
statement_days = st.integers(min_value=1, max_value=28)


@given(day=days_in_range, statement_day=statement_days)
def test_the_next_statement_date_is_the_first_statement_day_after(
    day: date, statement_day: int
) -> None:
    following = next_statement_date(day, statement_day)
    assert following.day == statement_day
    assert day < following <= day + timedelta(days=31)
    # no statement date lies strictly between
    assert previous_statement_date(following - timedelta(days=1), statement_day) <= day


@given(day=days_in_range, statement_day=statement_days)
def test_the_previous_and_next_statement_dates_bracket_any_day(
    day: date, statement_day: int
) -> None:
    before = previous_statement_date(day, statement_day)
    assert before.day == statement_day
    assert before <= day < next_statement_date(day, statement_day)
    assert next_statement_date(before, statement_day) == next_statement_date(day, statement_day)


@given(
    total=st.decimals(min_value=0, max_value=10_000_000, places=2),
    earlier=st.decimals(min_value=0, max_value=10_000_000, places=2),
)
def test_all_minimums_due_together_never_exceed_the_balance(
    total: Decimal, earlier: Decimal
) -> None:
    fresh = new_minimum(total, MINIMUM_RATE, earlier)
    assert fresh >= 0
    if earlier <= total:
        assert earlier + fresh <= total
