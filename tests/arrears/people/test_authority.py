"""Which role a user may claim, given the role they hold (collector < supervisor <
manager; an auditor is outside the ladder)."""

from __future__ import annotations

import pytest

from arrears.people.users import role_covers

ROLES = ("collector", "supervisor", "manager", "auditor")
#: stored role -> the roles it may act in (written out, not derived from the code).
COVERS = {
    "collector": {"collector"},
    "supervisor": {"collector", "supervisor"},
    "manager": {"collector", "supervisor", "manager"},
    "auditor": {"auditor"},
}


@pytest.mark.parametrize("stored", ROLES)
@pytest.mark.parametrize("claimed", ROLES)
def test_a_role_covers_itself_and_the_staff_roles_below_it(stored: str, claimed: str) -> None:
    assert role_covers(stored, claimed) is (claimed in COVERS[stored])


def test_an_unknown_role_covers_nothing_and_is_covered_by_nothing() -> None:
    assert not role_covers("boss", "collector")
    assert not role_covers("manager", "boss")
