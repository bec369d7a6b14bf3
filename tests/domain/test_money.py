"""Money (POLICY §1): half-up rounding, exact parsing, payment allocation, conservation.

Expected numbers are worked by hand in the comments, never copied from a run.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from domain.money import (
    CENT,
    ZERO,
    Allocation,
    Balance,
    allocate,
    charge,
    fmt,
    parse_amount,
    reduce_oldest_first,
)

D = Decimal


def balance(principal: str, interest: str, fees: str) -> Balance:
    return Balance(principal=D(principal), interest=D(interest), fees=D(fees))


# --- constants -------------------------------------------------------------------------


def test_cent_and_zero_are_two_place_decimals() -> None:
    assert D("0.01") == CENT
    assert str(CENT) == "0.01"
    assert str(ZERO) == "0.00"


# --- charge: half-up to the cent ---------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "charged"),
    [
        ("0.005", "0.01"),  # exactly half a cent goes up (banker's rounding would give 0.00)
        ("0.015", "0.02"),
        ("0.025", "0.03"),  # banker's rounding would give 0.02: this one tells them apart
        ("2.675", "2.68"),  # the float 2.675 is 2.67499999...; as a Decimal it is exact
        ("0.004", "0.00"),  # under half a cent goes down
        ("18.5184", "18.52"),
        ("12.3", "12.30"),
        ("-0.005", "-0.01"),  # negative halves round away from zero
    ],
)
def test_charging_rounds_half_up_to_the_cent(raw: str, charged: str) -> None:
    assert str(charge(D(raw))) == charged


def test_charging_a_float_is_refused() -> None:
    with pytest.raises(ValueError, match="float"):
        charge(0.1)  # type: ignore[arg-type]


def test_charging_nan_is_refused() -> None:
    with pytest.raises(ValueError, match="finite"):
        charge(D("NaN"))


# --- parse_amount: exact, or refused -----------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "parsed"),
    [
        ("12.3", "12.30"),
        ("12.30", "12.30"),
        (" 7 ", "7.00"),
        ("1.230", "1.23"),  # a trailing zero loses nothing
        ("-5", "-5.00"),
        ("-0.00", "0.00"),  # no negative zero
        (D("0.10"), "0.10"),
        (D("1E+2"), "100.00"),
        (42, "42.00"),
    ],
)
def test_parsing_an_amount_keeps_it_exact_with_two_places(
    raw: str | Decimal | int, parsed: str
) -> None:
    assert str(parse_amount(raw)) == parsed


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (0.1, "float"),
        (True, "float"),
        ("1.234", "more than 2 decimal places"),
        (D("0.001"), "more than 2 decimal places"),
        ("abc", "not a number"),
        ("", "not a number"),
        ("NaN", "not a finite number"),
        ("sNaN", "not a finite number"),
        ("Infinity", "not a finite number"),
        ("-Infinity", "not a finite number"),
        ("1E+40", "too large"),
    ],
)
def test_parsing_refuses_anything_it_would_have_to_guess_at_and_names_the_value(
    raw: object, reason: str
) -> None:
    with pytest.raises(ValueError, match=reason) as refused:
        parse_amount(raw)  # type: ignore[arg-type]
    assert repr(raw) in str(refused.value)


# --- fmt ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        (D("12.3"), "12.30"),
        (D("0"), "0.00"),
        (D("-5"), "-5.00"),
        (D("-0.00"), "0.00"),
        (D("1234567.89"), "1234567.89"),
        (D("1E+3"), "1000.00"),
    ],
)
def test_formatting_shows_exactly_two_decimals(amount: Decimal, shown: str) -> None:
    assert fmt(amount) == shown


def test_formatting_refuses_an_amount_that_was_never_charged() -> None:
    with pytest.raises(ValueError, match="more than 2 decimal places"):
        fmt(D("0.005"))


# --- Balance and Allocation ----------------------------------------------------------------


def test_balance_total_counts_everything_but_only_principal_and_interest_bear_interest() -> None:
    b = balance("10000.00", "155.00", "50.00")
    # total = 10,000.00 + 155.00 + 50.00 = 10,205.00
    assert b.total == D("10205.00")
    # interest-bearing = 10,000.00 + 155.00 = 10,155.00; the 50.00 of fees bear none
    assert b.interest_bearing == D("10155.00")


def test_balance_refuses_negative_parts_floats_and_sub_cent_amounts() -> None:
    with pytest.raises(ValidationError):
        balance("-1.00", "0", "0")
    with pytest.raises(ValidationError):
        Balance(principal=0.1, interest=D("0"), fees=D("0"))
    with pytest.raises(ValidationError):
        balance("1.001", "0", "0")


def test_balance_is_frozen() -> None:
    b = balance("1.00", "0", "0")
    with pytest.raises(ValidationError):
        b.principal = D("2.00")  # type: ignore[misc]


def test_balance_survives_a_json_round_trip_exactly() -> None:
    b = balance("10000.10", "0.05", "30")
    assert Balance.model_validate_json(b.model_dump_json()) == b


def test_a_json_number_with_a_fraction_is_refused_as_a_float() -> None:
    with pytest.raises(ValidationError):
        Balance.model_validate_json('{"principal": 0.1, "interest": "0", "fees": "0"}')


def test_allocation_applied_is_what_reduced_the_balance() -> None:
    a = Allocation(fees=D("30"), interest=D("50"), principal=D("20"), unapplied=D("5"))
    # 30.00 + 50.00 + 20.00 = 100.00; the 5.00 overpayment is not "applied"
    assert a.applied == D("100.00")


# --- allocate: fees, then interest, then principal -----------------------------------------


def test_a_payment_smaller_than_the_fees_only_reduces_fees() -> None:
    before = balance("1000.00", "50.00", "30.00")  # total 1,080.00
    after, paid = allocate(before, D("20.00"))
    # 20.00 < 30.00 of fees: all of it goes to fees, 10.00 of fees remain
    assert paid == Allocation(fees=D("20.00"), interest=ZERO, principal=ZERO, unapplied=ZERO)
    assert after == balance("1000.00", "50.00", "10.00")
    assert after.total == D("1060.00")  # 1,080.00 - 20.00


def test_a_payment_covering_fees_and_part_of_the_interest_leaves_principal_untouched() -> None:
    before = balance("1000.00", "50.00", "30.00")
    after, paid = allocate(before, D("60.00"))
    # 60.00 - 30.00 fees = 30.00 left for interest; 50.00 - 30.00 = 20.00 interest remains
    assert paid == Allocation(fees=D("30.00"), interest=D("30.00"), principal=ZERO, unapplied=ZERO)
    assert after == balance("1000.00", "20.00", "0.00")
    assert after.total == D("1020.00")  # 1,080.00 - 60.00


def test_a_payment_reaching_principal_pays_fees_and_interest_in_full_first() -> None:
    before = balance("1000.00", "50.00", "30.00")
    after, paid = allocate(before, D("500.00"))
    # 500.00 - 30.00 - 50.00 = 420.00 to principal; 1,000.00 - 420.00 = 580.00 remains
    assert paid == Allocation(
        fees=D("30.00"), interest=D("50.00"), principal=D("420.00"), unapplied=ZERO
    )
    assert after == balance("580.00", "0.00", "0.00")


def test_an_overpayment_clears_the_balance_and_keeps_the_excess_as_unapplied() -> None:
    before = balance("1000.00", "50.00", "30.00")
    after, paid = allocate(before, D("1100.00"))
    # 1,100.00 - 1,080.00 = 20.00 more than owed
    assert paid == Allocation(
        fees=D("30.00"), interest=D("50.00"), principal=D("1000.00"), unapplied=D("20.00")
    )
    assert paid.applied == D("1080.00")
    assert after.total == ZERO


def test_a_payment_of_exactly_the_balance_leaves_nothing_unapplied() -> None:
    after, paid = allocate(balance("1000.00", "50.00", "30.00"), D("1080.00"))
    assert after.total == ZERO
    assert paid.unapplied == ZERO


def test_a_payment_on_a_zero_balance_is_all_unapplied() -> None:
    after, paid = allocate(balance("0", "0", "0"), D("12.34"))
    assert after.total == ZERO
    assert paid == Allocation(fees=ZERO, interest=ZERO, principal=ZERO, unapplied=D("12.34"))


def test_a_zero_payment_changes_nothing() -> None:
    before = balance("1000.00", "50.00", "30.00")
    after, paid = allocate(before, ZERO)
    assert after == before
    assert paid.applied == ZERO
    assert paid.unapplied == ZERO


@pytest.mark.parametrize("amount", [D("-1.00"), D("0.005"), D("NaN")])
def test_a_negative_sub_cent_or_nan_payment_is_refused(amount: Decimal) -> None:
    with pytest.raises(ValueError):
        allocate(balance("1.00", "0", "0"), amount)


# --- reduce_oldest_first --------------------------------------------------------------------


def test_paying_dues_oldest_first_clears_the_oldest_and_reduces_the_next() -> None:
    # 180.00 clears the 100.00 (80.00 left), then takes 150.00 down to 70.00
    remaining, left = reduce_oldest_first([D("100.00"), D("150.00"), D("200.00")], D("180.00"))
    assert remaining == [D("70.00"), D("200.00")]
    assert left == ZERO


def test_paying_exactly_the_oldest_due_removes_only_it() -> None:
    remaining, left = reduce_oldest_first([D("100.00"), D("150.00"), D("200.00")], D("100.00"))
    assert remaining == [D("150.00"), D("200.00")]
    assert left == ZERO


def test_paying_more_than_all_dues_returns_the_rest() -> None:
    # 100.00 + 150.00 + 200.00 = 450.00 due; 500.00 - 450.00 = 50.00 left over
    remaining, left = reduce_oldest_first([D("100.00"), D("150.00"), D("200.00")], D("500.00"))
    assert remaining == []
    assert left == D("50.00")


def test_zero_dues_count_as_paid_and_are_dropped() -> None:
    remaining, left = reduce_oldest_first([ZERO, D("10.00"), ZERO, D("5.00")], D("4.00"))
    # the leading zero is dropped, 10.00 -> 6.00, the middle zero dropped, 5.00 untouched
    assert remaining == [D("6.00"), D("5.00")]
    assert left == ZERO


def test_paying_nothing_leaves_the_dues_as_they_were() -> None:
    remaining, left = reduce_oldest_first([D("100.00"), D("150.00")], ZERO)
    assert remaining == [D("100.00"), D("150.00")]
    assert left == ZERO


def test_paying_towards_no_dues_leaves_it_all_over() -> None:
    assert reduce_oldest_first([], D("9.99")) == ([], D("9.99"))


@pytest.mark.parametrize(
    ("dues", "amount"),
    [([D("-1.00")], D("1.00")), ([D("1.00")], D("-1.00")), ([D("1.001")], D("1.00"))],
)
def test_negative_or_sub_cent_dues_and_payments_are_refused(
    dues: list[Decimal], amount: Decimal
) -> None:
    with pytest.raises(ValueError):
        reduce_oldest_first(dues, amount)


# --- properties: money is never created or lost ---------------------------------------------

amounts = st.decimals(
    min_value=D("0.00"),
    max_value=D("1000000.00"),
    places=2,
    allow_nan=False,
    allow_infinity=False,
)
balances = st.builds(Balance, principal=amounts, interest=amounts, fees=amounts)


@given(start=balances, payments=st.lists(amounts, max_size=20))
def test_no_sequence_of_payments_ever_creates_or_loses_a_cent(
    start: Balance, payments: list[Decimal]
) -> None:
    current = start
    applied_total = ZERO
    for payment in payments:
        before = current
        current, allocation = allocate(current, payment)
        assert allocation.applied + allocation.unapplied == payment
        assert current.total + allocation.applied == before.total
        applied_total += allocation.applied
    assert applied_total + current.total == start.total


@given(start=balances, payment=amounts)
def test_a_payment_never_reaches_interest_while_fees_remain_nor_principal_while_interest_remains(
    start: Balance, payment: Decimal
) -> None:
    after, allocation = allocate(start, payment)
    assert allocation.fees == min(payment, start.fees)
    if after.fees > 0:
        assert allocation.interest == ZERO
    if after.interest > 0 or after.fees > 0:
        assert allocation.principal == ZERO
    if allocation.unapplied > 0:
        assert after.total == ZERO


@given(dues=st.lists(amounts, max_size=12), payment=amounts)
def test_paying_dues_oldest_first_conserves_money(dues: list[Decimal], payment: Decimal) -> None:
    remaining, left = reduce_oldest_first(dues, payment)
    paid = sum(dues, ZERO) - sum(remaining, ZERO)
    assert paid + left == payment
    assert all(due > 0 for due in remaining)
    # only the oldest entries change: what remains is the tail of the original list,
    # with at most its first entry reduced
    nonzero = [due for due in dues if due > 0]
    if remaining:
        tail = nonzero[len(nonzero) - len(remaining) :]
        assert remaining[1:] == tail[1:]
        assert remaining[0] <= tail[0]
    if left > 0:
        assert remaining == []
