"""Search, `/search` (issue 14, page 4): a case by account id, case id, or, for a
collector taking an inbound call, the debtor's phone number or name.

The term may be personal data, so it travels only in a POST body (CSRF-checked like every
form): never in the URL, a query string or a log line; the results page is not cached
(`Cache-Control: no-store`, app.py). Results show case ids and figures, no personal data;
each opens the case page, where viewing personal data is recorded.
"""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from arrears.console.auth import allowed, checked_form, services_of
from arrears.console.i18n import N_
from arrears.console.pages.book import WORDS
from arrears.console.rendering import render
from arrears.people.sessions import SignedIn
from arrears.store.search import SearchTermError, search

router = APIRouter()
Searcher = Annotated[SignedIn, Depends(allowed("search"))]

MAX_TERM: Final = 200
MATCHED: Final = {
    "case": N_("case id"), "account": N_("account id"), "phone": N_("phone number"),
    "name": N_("name"),
}  # fmt: skip
TOO_SHORT: Final = N_("Give an id, 6 digits of a phone number, or 2 characters of a name.")


def _page(request: Request, **context: object) -> Response:
    status = 422 if context.get("error") else 200
    base = {"term": "", "results": None, "error": None, "matched": MATCHED, "words": WORDS}
    return render(request, "search.html", base | context, status_code=status)


@router.get("/search")
async def search_form(request: Request, who: Searcher) -> Response:
    return _page(request)


@router.post("/search")
async def search_results(request: Request, who: Searcher) -> Response:
    form = await checked_form(request, who)
    term = str(form.get("term", "")).strip()
    if not term or len(term) > MAX_TERM:
        return _page(request, term=term[:MAX_TERM], error=TOO_SHORT)
    services = services_of(request)
    try:
        async with services.pool.acquire() as conn:
            results = await search(conn, term, services.vault)
    except SearchTermError:
        return _page(request, term=term, error=TOO_SHORT)
    return _page(request, term=term, results=results)
