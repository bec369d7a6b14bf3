"""The console application: `create_app(settings)` for `arrears console` and `make run`.

Pages are server-rendered (Jinja2); the few lines of JavaScript in `static/console.js`
only refresh parts of a page and submit filters, and every page works without them.
Nothing is loaded from anywhere but the console itself (Content-Security-Policy
`default-src 'self'`), so it works offline and no third party sees what is on screen.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from arrears.console.auth import CsrfRefused, Forbidden, NeedsSignIn
from arrears.console.i18n import N_
from arrears.console.pages import ROUTERS
from arrears.console.rendering import render
from arrears.console.services import Services
from arrears.crypto.vault import PersonalVault
from arrears.errors import ServiceUnavailable
from arrears.settings import Settings

STATIC = Path(__file__).parent / "static"

_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def create_app(
    settings: Settings, *, services: Services | None = None, vault: PersonalVault | None = None
) -> FastAPI:
    """The app; `services` given (tests) or built from `settings` when it starts, with
    `vault` (made ready by `arrears console`) or one opened then."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if services is not None:
            app.state.services = services
            yield
            return
        from arrears.crypto.existing import open_vault
        from arrears.policies import load_policy
        from arrears.store.db import create_pool

        ready = vault or await open_vault(settings)
        pool = await create_pool(settings.db_url, max_size=8)
        app.state.services = Services(
            settings=settings, policy=load_policy(settings.policy), pool=pool, vault=ready
        )
        try:
            yield
        finally:
            await pool.close()

    app = FastAPI(title="Arrears console", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url=None)  # fmt: skip
    if services is not None:
        app.state.services = services
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for router in ROUTERS:
        app.include_router(router)
    _handle_errors(app)

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        response.headers.update(_HEADERS)
        if not request.url.path.startswith("/static/"):
            response.headers["Cache-Control"] = "no-store"  # pages may show personal data
        return response

    return app


def _handle_errors(app: FastAPI) -> None:
    @app.exception_handler(NeedsSignIn)
    async def needs_sign_in(request: Request, exc: NeedsSignIn) -> Response:
        if request.method == "GET":
            return RedirectResponse("/login", status_code=303)
        return render(
            request, "error.html", {"message": N_("Please sign in again.")}, status_code=401
        )

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, exc: Forbidden) -> Response:
        return render(request, "error.html", {"message": N_("Your role may not use this page.")},
                      status_code=403)  # fmt: skip

    @app.exception_handler(CsrfRefused)
    async def csrf_refused(request: Request, exc: CsrfRefused) -> Response:
        message = N_("The form was stale or not from this console; nothing was changed.")
        return render(request, "error.html", {"message": message}, status_code=403)

    @app.exception_handler(ServiceUnavailable)
    async def unavailable(request: Request, exc: ServiceUnavailable) -> Response:
        return render(request, "error.html", {"message": N_("A service is unavailable."),
                                              "detail": str(exc)}, status_code=503)  # fmt: skip
