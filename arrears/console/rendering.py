"""Templates to pages, in the viewer's language.

One Jinja2 environment per language, each with the i18n extension and that language's
translations installed once (so no request can see another's language). Every page gets
the same context: the viewer, their CSRF token for the forms, the number and date
formats of their locale, and the navigation their role may use.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from arrears.console.i18n import (
    LANGUAGES,
    N_,
    Formats,
    Language,
    language_of,
    translations,
)
from arrears.console.permissions import may
from arrears.console.services import Services

TEMPLATES = Path(__file__).parent / "templates"
#: The language a person chose, remembered by the browser for the pages shown before
#: signing in (a language, not personal data).
LANGUAGE_COOKIE = "arrears_lang"

#: The navigation bar: page key (permissions.PERMISSIONS), path, label (translated).
NAV: tuple[tuple[str, str, str], ...] = (
    ("book", "/book", N_("Book")),
    ("worklists", "/worklists", N_("Worklists")),
    ("search", "/search", N_("Search")),
    ("audit", "/audit", N_("Audit")),
)


@cache
def environment(language: Language) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(("html",)),
        undefined=StrictUndefined,  # a misspelt variable is an error in the tests, not a blank
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
    return env


def formats_for(services: Services, language: Language) -> Formats:
    """The profile's own locale when it speaks the viewer's language, else a plain one."""
    profile = services.policy.money.locale
    locale = (
        profile if language_of(profile) == language else {"en": "en_US"}.get(language, language)
    )
    return Formats(locale, services.policy.money.currency, services.policy.cycle.bank_timezone)


def viewer_language(services: Services, chosen: str | None) -> Language:
    return language_of(chosen or services.policy.money.locale)


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> HTMLResponse:
    services: Services = request.app.state.services
    viewer = getattr(request.state, "viewer", None)
    chosen = viewer.user.locale if viewer is not None else request.cookies.get(LANGUAGE_COOKIE)
    language = viewer_language(services, chosen)
    page: dict[str, Any] = {
        "request": request,
        "viewer": viewer,
        "csrf_token": viewer.csrf_token if viewer is not None else "",
        "fmt": formats_for(services, language),
        "lang": language,
        "languages": LANGUAGES,
        "nav": [
            (key, path, label)
            for key, path, label in NAV
            if viewer is not None and may(viewer.user.role, key)
        ],
        "ui_url": services.settings.ui_url,
        "namespace": services.settings.temporal_namespace,
        **(context or {}),
    }
    html = environment(language).get_template(template).render(page)
    return HTMLResponse(html, status_code=status_code)
