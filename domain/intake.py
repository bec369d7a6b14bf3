"""From a placement row to the command that opens its case: personal data stays behind.

The case (and so the workflow history, the timeline and the search attributes) learns
only which phones, addresses and contacts exist; the values stay in the placement record.
"""

from __future__ import annotations

from domain.arms import CHAMPION, Arm
from domain.commands import OpenCase
from domain.events import AccountFacts, PhoneLine
from domain.placement import PlacementRow

_LINES: tuple[PhoneLine, ...] = ("mobile", "home_phone", "work_phone")


def account_facts(row: PlacementRow) -> AccountFacts:
    phones = tuple(line for line in _LINES if getattr(row, line))
    addresses = tuple(a for a in ("home_address", "work_address") if getattr(row, a))
    return AccountFacts(
        account_id=row.account_id,
        credit_limit=row.credit_limit,
        statement_day=row.statement_day,
        grace_days=row.grace_days,
        timezone=row.timezone,
        phones=phones,
        addresses=addresses,
        contacts=len(row.contacts),
        flags=row.flags,
        segment=row.segment,
    )


def open_case(row: PlacementRow, arm: Arm = CHAMPION) -> OpenCase:
    return OpenCase(
        account=account_facts(row),
        principal=row.principal,
        interest=row.interest,
        fees=row.fees,
        oldest_unpaid_due_date=row.oldest_unpaid_due_date,
        unpaid_minimum=row.unpaid_minimum,
        arm=arm,
    )
