"""Champion / challenger: which arm of a strategy test an account belongs to.

A bank tries a new strategy (the challenger profile) on a slice of the book before
adopting it. The slice must be chosen the same way every time (a re-import, the
simulator and the live book agree on every account) and must not depend on anything
about the debtor, or the comparison is biased: so the arm comes from a hash of the
account id alone, salted with the challenger's name so that a new experiment draws a new
slice rather than reusing the last one's.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Literal

Arm = Literal["champion", "challenger"]
ARMS: tuple[Arm, ...] = ("champion", "challenger")
CHAMPION: Arm = "champion"

#: The hash is read as a fraction of this many equal slots.
_SLOTS = 2**64


def assign_arm(account_id: str, challenger: str | None, split: Decimal) -> Arm:
    """The account's arm: "challenger" for a `split` share of accounts (0 <= split <= 1),
    drawn from the account id and the challenger's name; "champion" when there is no
    challenger."""
    if challenger is None or split <= 0:
        return CHAMPION
    digest = hashlib.sha256(f"{challenger}:{account_id}".encode()).digest()
    position = Decimal(int.from_bytes(digest[:8], "big")) / _SLOTS
    return "challenger" if position < split else CHAMPION
