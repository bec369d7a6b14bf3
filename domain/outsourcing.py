"""Outsourcing (委外) and legal referral (POLICY §4).

A placement has a hand (手别), an agency, a commission rate and a 90-day term. Regular
hands follow first -> second -> third -> long-aged (every placement after the third);
`early` and `package` placements are made by override and do not advance the sequence.
"""

from __future__ import annotations

import zlib
from decimal import Decimal

from domain.money import charge
from domain.policy import Hand, OutsourcingPolicy

_REGULAR: tuple[Hand, ...] = ("first", "second", "third")


def next_regular_hand(regular_hands_so_far: int) -> Hand:
    """The hand of the next regular placement, given how many were made before."""
    if regular_hands_so_far < len(_REGULAR):
        return _REGULAR[regular_hands_so_far]
    return "long_aged"


def agency_for(account_id: str, placements_so_far: int, policy: OutsourcingPolicy) -> str:
    """A different agency at each hand, spread evenly over accounts, and deterministic
    (a checksum of the account id, never Python's salted `hash`)."""
    agencies = policy.agencies or (policy.default_agency,)
    start = zlib.crc32(account_id.encode())
    return agencies[(start + placements_so_far) % len(agencies)]


def commission(payment: Decimal, rate: Decimal) -> Decimal:
    """POLICY §4: the agency earns its rate on every payment while the case is placed."""
    return charge(payment * rate)


def goes_to_legal_on_recall(hand: Hand, balance: Decimal, threshold: Decimal) -> bool:
    """POLICY §4: recalled from the third hand (or a long-aged one) with the balance at or
    above the legal threshold: legal; below it: the next long-aged placement."""
    return hand in ("third", "long_aged") and balance >= threshold


def long_aged_reaches_threshold(hand: Hand, balance: Decimal, threshold: Decimal) -> bool:
    """POLICY §4 long-aged re-check at each statement date: interest and fees grow the
    balance; once it reaches the threshold the case moves to legal."""
    return hand == "long_aged" and balance >= threshold
