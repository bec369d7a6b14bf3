"""Who is asking, and may they: the session cookie, the CSRF check, the permission check.

The session lives in PostgreSQL (`arrears.people.sessions`): the cookie holds only a
random token (HttpOnly, SameSite=Lax, Secure behind https), the table only its hash, so
disabling a user or signing out ends it at once, and idle sessions expire.

Every state-changing request carries the session's CSRF token as the form field
`csrf_token`; without the right one it is refused (403) before anything is read from the
form, so nothing changes. The sign-in form, which has no session yet, is protected the
same way by a double-submit token in a short-lived cookie.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.datastructures import FormData

from arrears.console.permissions import may
from arrears.console.services import Services
from arrears.people.sessions import SignedIn, find_session

SESSION_COOKIE = "arrears_session"
LOGIN_CSRF_COOKIE = "arrears_login_csrf"


class NeedsSignIn(Exception):
    """No valid session: pages redirect to /login, other requests get 401."""


class Forbidden(Exception):
    """Signed in, but this role may not use this page (403)."""

    def __init__(self, page: str) -> None:
        super().__init__(page)
        self.page = page


class CsrfRefused(Exception):
    """A state-changing request without the right `csrf_token` (403, nothing changed)."""


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def secure_cookie(request: Request) -> bool:
    return request.url.scheme == "https" or services_of(request).secure_cookies


def cookie_options(request: Request) -> dict[str, Any]:
    return {"httponly": True, "samesite": "lax", "secure": secure_cookie(request), "path": "/"}


async def viewer(request: Request) -> SignedIn:
    """The signed-in person, from the session cookie; `NeedsSignIn` otherwise."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise NeedsSignIn
    services = services_of(request)
    async with services.pool.acquire() as conn:
        found = await find_session(conn, token, services.now(), services.idle_timeout)
    if found is None:
        raise NeedsSignIn
    request.state.viewer = found
    return found


#: A route parameter: the signed-in person, whatever their role.
Viewer = Annotated[SignedIn, Depends(viewer)]


def allowed(page: str) -> Callable[..., Awaitable[SignedIn]]:
    """A dependency: the viewer, if their role may use `page` (permissions.PERMISSIONS)."""

    async def check(request: Request, who: Viewer) -> SignedIn:
        if not may(who.user.role, page):
            raise Forbidden(page)
        return who

    return check


def tokens_match(given: object, expected: str) -> bool:
    return isinstance(given, str) and bool(expected) and hmac.compare_digest(given, expected)


async def checked_form(request: Request, who: SignedIn) -> FormData:
    """The posted form, once its `csrf_token` is the session's; `CsrfRefused` otherwise."""
    form = await request.form()
    if not tokens_match(form.get("csrf_token"), who.csrf_token):
        raise CsrfRefused
    return form
