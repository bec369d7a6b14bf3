"""Delinquency: buckets (账龄), days past due, cure and charge-off (POLICY §2).

The bucket is cycle-based: an account with an unpaid minimum is in M_n, where n is the
number of statement dates that passed since its oldest unpaid due date. It is computed
from dates alone, so it can only rise when a statement date passes, and falls back
(a backward roll) when a payment clears the oldest unpaid minimum.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from domain.billing import next_statement_date, previous_statement_date
from domain.state import Due


def oldest_past_due(dues: Sequence[Due], today: date) -> date | None:
    """The oldest due date that has passed with its minimum still unpaid."""
    for due in dues:
        if due.due_date < today and due.amount > 0:
            return due.due_date
    return None


def bucket_number(oldest_unpaid_due: date | None, today: date, statement_day: int) -> int:
    """n of M_n: statement dates in (oldest unpaid due date, today]."""
    if oldest_unpaid_due is None:
        return 0
    first = next_statement_date(oldest_unpaid_due, statement_day)
    if first > today:
        return 0
    last = previous_statement_date(today, statement_day)
    # One statement date a month, so from the first to the last (both inside the range)
    # the count is the number of months between them, plus one: the same count as
    # stepping from statement to statement, without a step per month in arrears.
    return (last.year - first.year) * 12 + (last.month - first.month) + 1


def bucket_label(n: int, top: int) -> str:
    """'M0'..'M3', and 'M4+' for any n at or above the policy's top bucket."""
    return f"M{top}+" if n >= top else f"M{n}"


def days_past_due(oldest_unpaid_due: date | None, today: date) -> int:
    """DPD: days since the oldest unpaid due date (0 when nothing is past due)."""
    if oldest_unpaid_due is None:
        return 0
    return max(0, (today - oldest_unpaid_due).days)


def is_cured(dues: Sequence[Due], today: date) -> bool:
    """POLICY §2 cure: every past-due minimum is paid."""
    return oldest_past_due(dues, today) is None


def charge_off_due(oldest_unpaid_due: date | None, charge_off_dpd: int) -> date | None:
    """The date the account reaches the charge-off DPD (FFIEC practice: 180)."""
    if oldest_unpaid_due is None:
        return None

    return oldest_unpaid_due + timedelta(days=charge_off_dpd)
