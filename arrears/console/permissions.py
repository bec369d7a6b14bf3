"""Who may open what: one table, checked on the server for every route (`auth.allowed`).

Hiding a link is a courtesy; this table is the rule. Which override kinds a role may
give is not here: it is the policy's (`policy.authority.override_roles`, POLICY §6), and
the case decides it (`domain.override_checks.check_authority`), for the console exactly
as for the CLI.
"""

from __future__ import annotations

from typing import Final

from arrears.console.i18n import N_
from domain.policy import Role

ROLES: Final[tuple[Role, ...]] = ("collector", "supervisor", "manager", "auditor")
#: The role names as the pages show them (translated there).
ROLE_NAMES: Final = (N_("collector"), N_("supervisor"), N_("manager"), N_("auditor"))
_STAFF: Final = frozenset({"collector", "supervisor", "manager"})

#: page or action -> the roles that may use it.
PERMISSIONS: Final[dict[str, frozenset[str]]] = {
    # The book is figures without personal data: managers live by it, supervisors and
    # auditors read it.
    "book": frozenset({"manager", "supervisor", "auditor"}),
    # Worklists are where work is done: not an auditor's.
    "worklists": _STAFF,
    # Everyone may open a case; auditors see its personal data masked.
    "case": frozenset(ROLES),
    # Steering a case; the policy then says which kinds each role may give.
    "override": _STAFF,
    # Replay + reconciliation of one case: the auditors' tool, and the managers'.
    "case_audit": frozenset({"auditor", "manager"}),
    # Search by account or case id, or (for an inbound call) phone number or name.
    "search": frozenset(ROLES),
    # Overrides across cases and the personal-data access log, with CSV export.
    "audit": frozenset({"auditor", "manager"}),
}

#: Where each role lands after signing in (the issue's "first screen").
FIRST_SCREEN: Final[dict[str, str]] = {
    "manager": "/book",
    "supervisor": "/worklists",
    "collector": "/worklists",
    "auditor": "/audit",
}


def may(role: str, page: str) -> bool:
    return role in PERMISSIONS[page]
