"""Contact rules (POLICY §3 "what happens", §5 contact rules): which attempt is due when,
and which attempts are refused. The names the rest of the system uses, in one place.

Where each part lives, by what a reader looks for:
- `domain.contact_window`: the contact window in the debtor's zone, and the instants
  (UTC) every rule compares;
- `domain.contact_plan`: the tracks (reminder SMS, weekly SMS, debtor calls, locate calls,
  letters, the field visit) and what is due when (`plan`, `due`, `first_due`,
  `next_contact_at`);
- `domain.contact_rules`: facts about the contact history, the guards an attempt must
  pass (`check_attempt`) and what its record must carry (`record_gaps`).
"""

from __future__ import annotations

from domain.contact_plan import PlannedContact, due, first_due, next_contact_at, plan
from domain.contact_rules import (
    calls_required_per_week,
    check_attempt,
    contact_calls_in_week,
    contactable,
    is_bad_line,
    is_conversation,
    is_right_party,
    record_gaps,
    suppressed,
    unanswered_calls_on,
)
from domain.contact_window import WEEK, in_window, window_open_at

__all__ = [
    "WEEK",
    "PlannedContact",
    "calls_required_per_week",
    "check_attempt",
    "contact_calls_in_week",
    "contactable",
    "due",
    "first_due",
    "in_window",
    "is_bad_line",
    "is_conversation",
    "is_right_party",
    "next_contact_at",
    "plan",
    "record_gaps",
    "suppressed",
    "unanswered_calls_on",
    "window_open_at",
]
