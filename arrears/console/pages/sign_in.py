"""Signing in and out, the landing redirect, and the viewer's choice of language.

A failed sign-in says one thing whatever went wrong (unknown user, wrong password,
disabled, too many attempts), so the page never tells a stranger which ids exist.
"""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from arrears.console.auth import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    CsrfRefused,
    Viewer,
    checked_form,
    cookie_options,
    services_of,
    tokens_match,
)
from arrears.console.i18n import LANGUAGES, N_
from arrears.console.permissions import FIRST_SCREEN
from arrears.console.rendering import LANGUAGE_COOKIE, render
from arrears.people.sessions import end_session, open_session
from arrears.people.throttle import SignInRefused, sign_in
from arrears.people.users import set_locale

router = APIRouter()

#: How long the sign-in form's own CSRF token is good for.
LOGIN_FORM_SECONDS = 30 * 60
#: How long the browser remembers the language chosen.
LANGUAGE_COOKIE_SECONDS = 365 * 24 * 3600


def _login_page(request: Request, *, error: str | None = None, status_code: int = 200) -> Response:
    token = secrets.token_urlsafe(32)
    response = render(
        request, "login.html", {"csrf_token": token, "error": error}, status_code=status_code
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE, token, max_age=LOGIN_FORM_SECONDS, **cookie_options(request)
    )
    return response


@router.get("/login")
async def login_form(request: Request) -> Response:
    return _login_page(request)


@router.post("/login")
async def login(request: Request) -> Response:
    form = await request.form()
    if not tokens_match(form.get("csrf_token"), request.cookies.get(LOGIN_CSRF_COOKIE, "")):
        raise CsrfRefused
    username, password = str(form.get("username", "")), str(form.get("password", ""))
    address = request.client.host if request.client else "unknown"
    services = services_of(request)
    now = services.now()
    async with services.pool.acquire() as conn:
        try:
            user = await sign_in(conn, username.strip(), password, address, now)
        except SignInRefused:
            return _login_page(
                request, error=N_("Sign-in failed, or too many attempts. Try again later."),
                status_code=401,
            )  # fmt: skip
        session = await open_session(conn, user.id, now)
    response = RedirectResponse(FIRST_SCREEN[user.role], status_code=303)
    response.set_cookie(SESSION_COOKIE, session.token, **cookie_options(request))
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
    return response


@router.post("/logout")
async def logout(request: Request, who: Viewer) -> Response:
    await checked_form(request, who)
    services = services_of(request)
    async with services.pool.acquire() as conn:
        await end_session(conn, request.cookies[SESSION_COOKIE], services.now())
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/")
async def landing(who: Viewer) -> Response:
    return RedirectResponse(FIRST_SCREEN[who.user.role], status_code=303)


@router.post("/language")
async def choose_language(request: Request, who: Viewer) -> Response:
    """The viewer's own language, kept on their user (NULL again: the profile's)."""
    form = await checked_form(request, who)
    chosen = str(form.get("language", ""))
    services = services_of(request)
    if chosen in LANGUAGES:
        async with services.pool.acquire() as conn:
            await set_locale(conn, who.user.id, chosen, services.now())
    back = request.headers.get("referer", "")
    same_site = back.startswith(str(request.base_url))
    response = RedirectResponse(back if same_site else FIRST_SCREEN[who.user.role], status_code=303)
    if chosen in LANGUAGES:  # the sign-in page keeps it too
        response.set_cookie(
            LANGUAGE_COOKIE, chosen, max_age=LANGUAGE_COOKIE_SECONDS, **cookie_options(request)
        )
    return response
