"""Outsourcing (委外) and legal referral (POLICY §4).

A placement has a hand (手别), an agency, a commission rate and a 90-day term (counted on
the bank's calendar: `term_ends`). Regular
hands follow first -> second -> third -> long-aged (every placement after the third);
`early` and `package` placements are made by override and do not advance the sequence.
"""

from __future__ import annotations

import zlib
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from domain.localtime import days, zone
from domain.money import charge
from domain.policy import Hand, OutsourcingPolicy

_REGULAR: tuple[Hand, ...] = ("first", "second", "third")


def term_ends(start: datetime, policy: OutsourcingPolicy, bank_tz: str) -> datetime:
    """POLICY §4: a placement's term of `term_days` days ends that many days later on the
    bank's calendar, at the bank-local time it began (midnight for a placement made by a
    statement): the agency has the account "until" a date. Returned in UTC.

    Counted on the calendar, not in elapsed hours: across a change of daylight saving
    the two differ by an hour. Whatever zone `start` is written in gives the same end,
    so the live case (whose times come back from JSON with fixed offsets) and
    `simulate` agree. `term_calendar = "start_zone"` is the count used before
    2026-11-25, kept for cases recorded then (see `OutsourcingPolicy`)."""
    if policy.term_calendar == "start_zone":
        return start + timedelta(days=policy.term_days)
    bank = zone(bank_tz)
    local = start.astimezone(bank)
    end = datetime.combine(local.date() + days(policy.term_days), local.time(), tzinfo=bank)
    return end.astimezone(UTC)


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
