"""Permissions are enforced on the server, for every route and every role.

The expected table is the issue's, written out here independently of
`arrears/console/permissions.py`; every route the app serves must be in it, so a new page
without a decision about who may use it fails this test.
"""

from __future__ import annotations

import pytest
from fastapi.routing import APIRoute

from arrears.console.pages import ROUTERS
from tests.arrears.console.conftest import ROLES, Console, csrf_token

EVERYONE = frozenset(ROLES)
STAFF = frozenset({"collector", "supervisor", "manager"})
AUDIT = frozenset({"auditor", "manager"})

#: (method, path) -> roles that may use it; None: open to anyone (signing in).
EXPECTED: dict[tuple[str, str], frozenset[str] | None] = {
    ("GET", "/login"): None,
    ("POST", "/login"): None,
    ("POST", "/logout"): EVERYONE,
    ("GET", "/"): EVERYONE,
    ("POST", "/language"): EVERYONE,
    ("GET", "/book"): frozenset({"manager", "supervisor", "auditor"}),
    ("GET", "/book/reports"): frozenset({"manager", "supervisor", "auditor"}),
    ("GET", "/worklists"): STAFF,
    ("GET", "/worklists/{name}"): STAFF,
    ("GET", "/search"): EVERYONE,
    ("POST", "/search"): EVERYONE,
    ("GET", "/cases/{case_id}"): EVERYONE,
    ("POST", "/cases/{case_id}/overrides/{kind}"): STAFF,
    ("POST", "/cases/{case_id}/audit"): AUDIT,
    ("GET", "/audit"): AUDIT,
    ("GET", "/audit/overrides.csv"): AUDIT,
    ("GET", "/audit/views.csv"): AUDIT,
}
#: Values for the path parameters: a case that does not exist (allowed: 404, not 403).
PARAMS = {"case_id": "case-NOBODY-1", "name": "promises_broken", "kind": "pause"}


def _served() -> set[tuple[str, str]]:
    return {
        (method, route.path)
        for router in ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in route.methods
    }


def test_every_route_the_console_serves_has_a_decision_about_who_may_use_it() -> None:
    assert _served() == set(EXPECTED)


GUARDED = [(m, p, roles) for (m, p), roles in EXPECTED.items() if roles is not None]
# Signing out or changing language changes the session; they are tested on their own.
MATRIX = [(m, p, roles) for m, p, roles in GUARDED if p not in ("/logout", "/language")]


@pytest.mark.parametrize("role", ROLES)
async def test_each_role_gets_exactly_the_routes_the_issue_gives_it(
    console: Console, role: str
) -> None:
    client = await console.signed_in(role)
    home = await client.get("/", follow_redirects=True)
    token = csrf_token(home.text)
    for method, path, roles in MATRIX:
        url = path.format(**PARAMS)
        if method == "GET":
            response = await client.get(url)
        else:
            response = await client.post(url, data={"csrf_token": token, "reason": "test"})
        refused = response.status_code == 403
        assert refused == (role not in roles), (role, method, path, response.status_code)
        assert response.status_code not in (401, 500), (role, method, path)


async def test_without_a_session_pages_send_you_to_sign_in_and_posts_are_refused(
    console: Console,
) -> None:
    client = console.client()
    for method, path, _roles in GUARDED:
        url = path.format(**PARAMS)
        if method == "GET":
            response = await client.get(url)
            assert response.status_code == 303, path
            assert response.headers["location"] == "/login"
        else:
            assert (await client.post(url, data={})).status_code == 401, path
