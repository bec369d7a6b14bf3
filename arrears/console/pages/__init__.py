"""One module per page, each with its `router`; `ROUTERS` is the order they are mounted."""

from __future__ import annotations

from fastapi import APIRouter

from arrears.console.pages import audit, book, book_reports, case, search, sign_in, worklists

ROUTERS: list[APIRouter] = [
    sign_in.router,
    book.router,
    book_reports.router,
    worklists.router,
    search.router,
    case.router,
    audit.router,
]
