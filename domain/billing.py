"""The billing calendar and what is charged at each statement and due date (POLICY §2).

Dates here are calendar dates in the bank's time zone; turning them into instants is
done at the edge, so this module stays pure and clock-free. Every rate, minimum and
day count is an argument: they come from the bank's policy (`domain.policy`), and a
bank can change any of them (POLICY preamble). The functions only do the arithmetic,
rounding once, half-up to the cent, when an amount is charged (POLICY §1).
"""

from __future__ import annotations

import calendar
from datetime import date
from decimal import Decimal
from functools import lru_cache

from domain.localtime import days
from domain.money import ZERO, charge

_MONTHS_PER_YEAR = 12


def statement_date_in(year: int, month: int, statement_day: int) -> date:
    """The statement date S_k of a given month (POLICY §2).

    `statement_day` is limited to 1-28 by POLICY §2 precisely so that every month has
    it; anything else raises `ValueError` rather than silently moving the date.
    """
    _require_statement_day(statement_day)
    return date(year, month, statement_day)


# The statement dates around a date are asked for at every statement and every bucket
# refresh, for a few dates per case. Pure functions of a date and a day number, both
# hashable and compared exactly, returning an immutable date: remembering them cannot
# change an answer. Shared by every case of a worker: keys and answers are plain values,
# no case's state, so nothing passes from one case to another; bounded by `maxsize`.


@lru_cache(maxsize=4096)
def next_statement_date(after: date, statement_day: int) -> date:
    """The first statement date strictly after `after` (POLICY §2).

    Strictly: on a statement date itself, the *next* cycle's statement is the one
    ahead, which is what a timer scheduled at S_k needs to sleep until.
    """
    this_month = statement_date_in(after.year, after.month, statement_day)
    if this_month > after:
        return this_month
    year, month = _shift_month(after.year, after.month, 1)
    return statement_date_in(year, month, statement_day)


@lru_cache(maxsize=4096)
def previous_statement_date(on_or_before: date, statement_day: int) -> date:
    """The last statement date on or before the given date (POLICY §2).

    This is S_(k-1) for a day inside cycle k: the date interest accrues from (§2.1).
    """
    this_month = statement_date_in(on_or_before.year, on_or_before.month, statement_day)
    if this_month <= on_or_before:
        return this_month
    year, month = _shift_month(on_or_before.year, on_or_before.month, -1)
    return statement_date_in(year, month, statement_day)


def due_date(statement: date, grace_days: int) -> date:
    """D_k = S_k + grace_days (POLICY §2), counted in calendar days.

    Calendar days, not business days: POLICY §2 says "S_k + grace_days" and banks in
    the default profile print it that way. Month ends, year ends and 29 February fall
    out of date arithmetic.
    """
    if grace_days < 0:
        raise ValueError(f"grace_days {grace_days} must not be negative")
    return statement + days(grace_days)


def accrual_days(previous: date, statement: date) -> int:
    """Days of interest for the cycle ending at `statement` (POLICY §2.1).

    `previous` is S_(k-1), or the day the case opened if that is later: the caller
    passes the later of the two, because placement balances already include interest
    up to the opening day (POLICY §1). A `statement` before `previous` raises
    `ValueError`: a cycle cannot run backwards.
    """
    days = (statement - previous).days
    if days < 0:
        raise ValueError(f"statement {statement} is before the accrual start {previous}")
    return days


def cycle_interest(interest_bearing: Decimal, days: int, daily_rate: Decimal) -> Decimal:
    """Interest for a cycle: daily_rate x interest-bearing balance x days (POLICY §2.1).

    Simple within the cycle, rounded once when charged (§1); the result is capitalised
    at S_k by the caller, so next cycle's `interest_bearing` includes it: that is the
    monthly compounding of §2.1 (按月计收复利). Fees must not be in `interest_bearing`.
    """
    _require_non_negative(interest_bearing, "interest_bearing")
    _require_non_negative(daily_rate, "daily_rate")
    if days < 0:
        raise ValueError(f"days {days} must not be negative")
    return charge(interest_bearing * daily_rate * days)


def over_limit_fee(
    balance_total: Decimal, credit_limit: Decimal, rate: Decimal, minimum: Decimal
) -> Decimal:
    """The over-limit fee at a statement date: `rate` of the excess, at least `minimum`.

    POLICY §2.2 (default 5 %, minimum 5.00). Nothing is charged at or under the limit;
    any excess, however small, draws at least the minimum, as the bank's schedule says.
    """
    _require_non_negative(balance_total, "balance_total")
    _require_non_negative(credit_limit, "credit_limit")
    excess = balance_total - credit_limit
    if excess <= 0:
        return ZERO
    return _fee_with_floor(excess, rate, minimum)


def late_fee(unpaid_minimum: Decimal, rate: Decimal, minimum: Decimal) -> Decimal:
    """The late fee at a due date: `rate` of the minimum left unpaid, at least `minimum`.

    POLICY §2 (default 1 %, minimum 10.00; some banks 3 %, minimum 30.00). The unpaid
    minimum is this cycle's and earlier cycles' together; the caller sums them. Nothing
    is charged when nothing is unpaid.
    """
    _require_non_negative(unpaid_minimum, "unpaid_minimum")
    if unpaid_minimum == 0:
        return ZERO
    return _fee_with_floor(unpaid_minimum, rate, minimum)


def new_minimum(statement_total: Decimal, rate: Decimal, earlier_unpaid: Decimal) -> Decimal:
    """This cycle's minimum payment: `rate` of the statement balance, cut down to fit.

    POLICY §2.3 (default 10 %): earlier unpaid minimums stay due on top of the new one,
    but all minimums due together never exceed the balance, so the new one is reduced
    to `statement_total - earlier_unpaid`, and never below zero. Otherwise a debtor
    could be asked to pay more than they owe.
    """
    _require_non_negative(statement_total, "statement_total")
    _require_non_negative(rate, "rate")
    _require_non_negative(earlier_unpaid, "earlier_unpaid")
    room = max(statement_total - earlier_unpaid, ZERO)
    return min(charge(rate * statement_total), charge(room))


def _fee_with_floor(base: Decimal, rate: Decimal, minimum: Decimal) -> Decimal:
    """`rate` x `base` charged (§1), but never less than `minimum` (§2.2, §2 late fee)."""
    _require_non_negative(rate, "rate")
    _require_non_negative(minimum, "minimum")
    return max(charge(rate * base), charge(minimum))


def _require_non_negative(value: Decimal, name: str) -> None:
    """Refuse floats, NaN and negatives: each is a caller bug, never a policy (§1)."""
    if not isinstance(value, Decimal) or not value.is_finite():
        raise ValueError(f"{name} {value!r} must be a finite Decimal, never a float")
    if value < 0:
        raise ValueError(f"{name} {value!r} must not be negative")


def _require_statement_day(statement_day: int) -> None:
    """POLICY §2: statement_day is 1-28, so it exists in every month."""
    if not 1 <= statement_day <= 28:
        raise ValueError(f"statement_day {statement_day} must be between 1 and 28")


def _shift_month(year: int, month: int, by: int) -> tuple[int, int]:
    """(year, month) moved by `by` months, across year ends."""
    index = year * _MONTHS_PER_YEAR + (month - 1) + by
    return index // _MONTHS_PER_YEAR, index % _MONTHS_PER_YEAR + 1


def add_months(day: date, months: int) -> date:
    """The same day `months` later, clipped to the month's end (an installment plan's
    monthly due dates: 31 Jan -> 28/29 Feb -> 31 Mar)."""
    year, month = _shift_month(day.year, day.month, months)
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
