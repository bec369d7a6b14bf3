"""The Audit page (auditors and managers): every override across cases, filtered by actor,
kind and date, and the personal-data access log (who looked at whose contact data, when);
both exported as CSV.

Filters travel as query parameters: they are user ids, override kinds and dates, never
personal data. Dates are days in the bank's time zone, as people at the bank think of
them; `until` is inclusive.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from arrears.cases.override import KINDS
from arrears.console.auth import allowed, services_of
from arrears.console.i18n import N_
from arrears.console.rendering import render
from arrears.people.access_log import MAX_LIMIT as VIEWS_LIMIT
from arrears.people.access_log import PersonalDataView, count_views, list_views
from arrears.people.sessions import SignedIn
from arrears.store.csv_export import csv_text
from arrears.store.override_log import (
    MAX_EXPORT,
    OverrideFilter,
    override_csv,
    override_log,
    override_rows,
)
from domain.localtime import zone

router = APIRouter()
PAGE_SIZE = 50
Auditor = Annotated[SignedIn, Depends(allowed("audit"))]
VIEWS_HEADER = ("viewed_at", "user_id", "role", "case_id", "what")


@dataclass(frozen=True)
class Filters:
    actor: str | None
    kind: str | None
    since: date | None
    until: date | None
    error: str | None = None

    def window(self, bank_tz: str) -> tuple[datetime | None, datetime | None]:
        """The days as moments: from the start of `since` to the end of `until`, bank time."""
        tz = zone(bank_tz)
        start = datetime.combine(self.since, time(), tz) if self.since else None
        end = datetime.combine(self.until + timedelta(days=1), time(), tz) if self.until else None
        return start, end

    def query(self) -> dict[str, str]:
        given = {"actor": self.actor, "kind": self.kind, "since": self.since, "until": self.until}
        return {k: str(v) for k, v in given.items() if v}

    def link(self, page_name: str, page: int) -> str:
        """The query string of the same filters on another page of one of the tables."""
        return urlencode({**self.query(), page_name: str(page)})


def _day(raw: str | None) -> date | None:
    return date.fromisoformat(raw) if raw else None


def read_filters(
    actor: str | None = None, kind: str | None = None, since: str | None = None,
    until: str | None = None,
) -> Filters:  # fmt: skip
    """The filters as given; a bad one is named on the page and the filter left out."""
    actor = (actor or "").strip() or None
    kind = (kind or "").strip() or None
    if kind is not None and kind not in KINDS:
        return Filters(actor, None, None, None, error=N_("Unknown override kind."))
    try:
        return Filters(actor, kind, _day(since), _day(until))
    except ValueError:
        return Filters(actor, kind, None, None, error=N_("Dates are written YYYY-MM-DD."))


AuditFilters = Annotated[Filters, Depends(read_filters)]


def _override_filter(request: Request, f: Filters) -> OverrideFilter:
    start, end = f.window(services_of(request).policy.cycle.bank_timezone)
    return OverrideFilter(actor=f.actor, kind=f.kind, since=start, until=end)


@router.get("/audit")
async def audit_page(
    request: Request, who: Auditor, f: AuditFilters,
    page: Annotated[int, Query(ge=1)] = 1, views_page: Annotated[int, Query(ge=1)] = 1,
) -> Response:  # fmt: skip
    services = services_of(request)
    start, end = f.window(services.policy.cycle.bank_timezone)
    async with services.pool.acquire() as conn:
        overrides = await override_log(
            conn, _override_filter(request, f), limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
        )
        views = await list_views(
            conn, actor=f.actor, since=start, until=end, limit=PAGE_SIZE,
            offset=(views_page - 1) * PAGE_SIZE,
        )  # fmt: skip
        views_total = await count_views(conn, actor=f.actor, since=start, until=end)
    return render(request, "audit.html", {
        "filters": f, "kinds": sorted(KINDS), "overrides": overrides, "page": page,
        "views": views, "views_total": views_total, "views_page": views_page,
        "page_size": PAGE_SIZE,
    })  # fmt: skip


def _download(body: str, name: str) -> Response:
    return Response(
        body.encode("utf-8-sig"),  # the BOM lets spreadsheet programs read Chinese right
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/audit/overrides.csv")
async def overrides_csv(request: Request, who: Auditor, f: AuditFilters) -> Response:
    async with services_of(request).pool.acquire() as conn:
        rows = await override_rows(conn, _override_filter(request, f))
    return _download(override_csv(rows), "overrides.csv")


@router.get("/audit/views.csv")
async def views_csv(request: Request, who: Auditor, f: AuditFilters) -> Response:
    start, end = f.window(services_of(request).policy.cycle.bank_timezone)
    views: list[PersonalDataView] = []
    async with services_of(request).pool.acquire() as conn:
        while len(views) < MAX_EXPORT:  # the log is read a page at a time
            page = await list_views(
                conn, actor=f.actor, since=start, until=end, limit=VIEWS_LIMIT, offset=len(views)
            )
            views += page
            if len(page) < VIEWS_LIMIT:
                break
    rows = ([v.viewed_at, v.user_id, v.role, v.case_id, v.what] for v in views)
    return _download(csv_text(VIEWS_HEADER, rows), "personal-data-views.csv")
