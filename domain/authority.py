"""Which role a person may act in, given the role they hold (POLICY §6, issue 14).

The staff roles are a ladder: a manager may do what a supervisor may, and a supervisor
what a collector may, so a person may claim their own role or one below it (a manager
taking a call acts as a collector). An auditor is outside the ladder: they give no
override, and nobody else may act as an auditor.
"""

from __future__ import annotations

from typing import Final

from domain.policy import Role

#: The staff ladder, lowest first.
STAFF_LADDER: Final[tuple[Role, ...]] = ("collector", "supervisor", "manager")


def role_covers(stored: str, claimed: str) -> bool:
    """Whether a person holding `stored` may act as `claimed`."""
    if stored in STAFF_LADDER and claimed in STAFF_LADDER:
        return STAFF_LADDER.index(claimed) <= STAFF_LADDER.index(stored)
    return stored == claimed == "auditor"
