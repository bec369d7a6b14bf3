"""Money: exact amounts, the one rounding rule, and how a payment is applied (POLICY §1).

Every amount in the product is a `Decimal` exact to the cent. Amounts come in through
`parse_amount` (which refuses anything it would have to guess at), are rounded only
where POLICY §1 says so (`charge`, "rounded half-up to 0.01 when charged"), and are
moved between buckets by `allocate` and `reduce_oldest_first`, which never create or
lose a cent. `float` is refused everywhere: 0.1 has no exact binary form, and a
collections ledger that drifts by a cent is a complaint and an audit finding.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def charge(amount: Decimal) -> Decimal:
    """Round `amount` half-up to the cent, the moment it becomes money owed.

    POLICY §1: amounts are "rounded half-up to 0.01 when charged". Half-up (0.005 ->
    0.01), not Python's default banker's rounding (which would give 0.00), because that
    is what the bank's statements print. Negative amounts round away from zero.
    """
    finite = _require_finite(amount)
    return _without_negative_zero(finite.quantize(CENT, rounding=ROUND_HALF_UP))


def parse_amount(value: object) -> Decimal:
    """Read an amount exactly, or refuse it.

    POLICY §1 ("never `float`"): a placement file or an API call that says "1.234" or
    passes a float is a bug upstream, and silently rounding it would hide the bug and
    move money. So: floats (and bools), NaN, infinities, non-numeric text and anything
    with a non-zero digit below the cent raise `ValueError` naming the value. Trailing
    zeros ("1.230") lose nothing and are accepted. The result carries exactly two places.
    """
    if type(value) is Decimal:  # the common case (every amount the rules compute)
        number = value
    elif isinstance(value, bool) or not isinstance(value, (str, Decimal, int)):
        raise ValueError(f"amount {value!r} must be a str, Decimal or int, never a float")
    else:
        try:
            number = Decimal(value.strip()) if isinstance(value, str) else Decimal(value)
        except InvalidOperation:
            raise ValueError(f"amount {value!r} is not a number") from None
    if not number.is_finite():
        raise ValueError(f"amount {value!r} is not a finite number")
    return _exact_cents(number, "amount", value)


def fmt(amount: Decimal) -> str:
    """Show an amount with exactly two decimals ("12.30", "0.00", "-5.00").

    Only whole cents are shown: an amount with a digit below the cent has not been
    charged yet (POLICY §1), so showing it rounded would print a number nobody owes.
    Such an amount raises `ValueError`.
    """
    return f"{_require_cents(amount, 'amount'):.2f}"


def _require_finite(amount: Decimal) -> Decimal:
    """Refuse floats and NaN/infinity before they reach arithmetic (POLICY §1)."""
    if not isinstance(amount, Decimal):
        raise ValueError(f"amount {amount!r} must be a Decimal, never a float")
    if not amount.is_finite():
        raise ValueError(f"amount {amount!r} is not a finite number")
    return amount


def _require_cents(amount: Decimal, what: str) -> Decimal:
    """Return `amount` with two places, refusing a digit below the cent (POLICY §1)."""
    return _exact_cents(_require_finite(amount), what, amount)


def _exact_cents(number: Decimal, what: str, value: object) -> Decimal:
    """`number` with exactly two places, or `ValueError` (naming `what` and the `value`
    given) if that would change its value. The message is written only when refusing:
    every amount of every payment and due passes here."""
    try:
        cents = number.quantize(CENT)
    except InvalidOperation:
        raise ValueError(f"{what} {value!r} is too large") from None
    if cents != number:
        raise ValueError(f"{what} {value!r} has more than 2 decimal places")
    return _without_negative_zero(cents)


def _require_non_negative_cents(amount: Decimal, what: str) -> Decimal:
    """Like `_require_cents`, and refuse a negative amount (a payment or a due is >= 0)."""
    cents = _require_cents(amount, what)
    if cents < 0:
        raise ValueError(f"{what} {amount!r} must not be negative")
    return cents


def _without_negative_zero(amount: Decimal) -> Decimal:
    """Turn -0.00 into 0.00 so it never prints as "-0.00"."""
    return ZERO if amount.is_zero() else amount


# Model fields take an amount through `parse_amount`, the same door as files and APIs:
# without it pydantic would turn a float (or a JSON number such as 0.1) into a Decimal
# silently, which POLICY §1 forbids.
_Amount = Annotated[Decimal, BeforeValidator(parse_amount), Field(ge=0)]
#: An amount of money in a model: exact cents, never a float (POLICY §1).
Money = Annotated[Decimal, BeforeValidator(parse_amount)]
#: A payment or promise: exact cents and more than zero.
PositiveMoney = Annotated[Decimal, BeforeValidator(parse_amount), Field(gt=0)]


class Balance(BaseModel):
    """What the debtor owes, split the way POLICY §1 and §2.1 treat it differently.

    Fees are kept apart because they are paid first (§1) and bear no interest (§2.1);
    interest is kept apart from principal because it is paid before principal (§1) even
    though, once capitalised, it bears interest like principal (§2.1, 按月计收复利).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    principal: _Amount
    interest: _Amount
    fees: _Amount

    @property
    def total(self) -> Decimal:
        """Everything owed: the statement balance of POLICY §2.3."""
        return self.principal + self.interest + self.fees

    @property
    def interest_bearing(self) -> Decimal:
        """Principal plus capitalised interest; fees bear no interest (POLICY §2.1)."""
        return self.principal + self.interest


class Allocation(BaseModel):
    """Where one payment went, per POLICY §1's order; `unapplied` is any overpayment.

    The overpayment is kept rather than dropped so the ledger can refund or hold it:
    the debtor's money is never lost (POLICY §1).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    fees: _Amount
    interest: _Amount
    principal: _Amount
    unapplied: _Amount

    @property
    def applied(self) -> Decimal:
        """The part of the payment that reduced the balance."""
        return self.fees + self.interest + self.principal


def allocate(balance: Balance, amount: Decimal) -> tuple[Balance, Allocation]:
    """Apply a payment fees -> interest -> principal (POLICY §1).

    Returns the balance after the payment and where the payment went. Conservation is
    exact: `new.total + allocation.applied == balance.total` and
    `allocation.applied + allocation.unapplied == amount`. A negative or sub-cent
    amount raises `ValueError`: a refund or reversal is not a payment.
    """
    left = _require_non_negative_cents(amount, "payment")
    to_fees, left = _take(balance.fees, left)
    to_interest, left = _take(balance.interest, left)
    to_principal, left = _take(balance.principal, left)
    after = Balance(
        principal=balance.principal - to_principal,
        interest=balance.interest - to_interest,
        fees=balance.fees - to_fees,
    )
    allocation = Allocation(
        fees=to_fees, interest=to_interest, principal=to_principal, unapplied=left
    )
    return after, allocation


def _take(owed: Decimal, available: Decimal) -> tuple[Decimal, Decimal]:
    """Pay as much of `owed` as `available` allows; return (paid, still available)."""
    paid = min(owed, available)
    return paid, available - paid


def reduce_oldest_first(dues: Sequence[Decimal], amount: Decimal) -> tuple[list[Decimal], Decimal]:
    """Pay unpaid minimums oldest first; return (dues still unpaid, amount left over).

    Oldest first because the bucket and DPD are counted from the oldest unpaid due date
    (POLICY §2): clearing it is what rolls an account back. Fully paid entries (and any
    zero entries) are removed; the entry the money runs out on is reduced; later ones
    are untouched. Nothing is created or lost:
    `sum(dues) - sum(remaining) + leftover == amount`. A negative or sub-cent due or
    amount raises `ValueError`.
    """
    left = _require_non_negative_cents(amount, "payment")
    remaining: list[Decimal] = []
    for index, due in enumerate(dues):
        owed = _require_non_negative_cents(due, f"due[{index}]")
        paid, left = _take(owed, left)
        if owed - paid > 0:
            remaining.append(owed - paid)
    return remaining, left
