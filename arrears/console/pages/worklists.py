"""The worklists, `/worklists` and `/worklists/{name}` (issue 14, page 2): the collector's
and supervisor's first screen. The index counts every list; a list pages through its
cases, each row a link to `/cases/{case_id}`.

Filters, sort and page are GET query parameters: they are stages, buckets, agency and
profile names, never personal data. A value outside the known ones is refused (400) with
a message, not silently widened to "any".
"""

from __future__ import annotations

import re
from functools import cache
from typing import Annotated, Final
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from arrears.console.auth import allowed, services_of
from arrears.console.i18n import N_
from arrears.console.pages.book import BUCKETS, WORDS, bank_today
from arrears.console.rendering import render
from arrears.console.services import Services
from arrears.people.sessions import SignedIn
from arrears.policies import SHIPPED, load_policy
from arrears.store.worklists import SORTS, WORKLISTS, Filters, worklist, worklist_counts
from domain.policy import STAGES, LegalPolicy

router = APIRouter()
Worker = Annotated[SignedIn, Depends(allowed("worklists"))]

PAGE_SIZE: Final = 50
_AGENCY = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")

TITLES: Final = {
    "promises_due_today": N_("Promises due today"),
    "promises_broken": N_("Promises broken"),
    "installments_missed": N_("Installments missed"),
    "open_disputes": N_("Open disputes"),
    "cease_contact": N_("Cease contact"),
    "legal_threshold": N_("At the legal threshold"),
    "terms_ending": N_("Agency terms ending within 7 days"),
    "no_rpc_30d": N_("No right-party contact in 30 days"),
}
#: The heading of each list's own column (`WorklistRow.key`), if it has one.
KEY_HEADINGS: Final = {
    "promises_due_today": N_("Due"),
    "promises_broken": N_("Broken"),
    "installments_missed": N_("Missed"),
    "terms_ending": N_("Term ends"),
    "no_rpc_30d": N_("Last right-party contact"),
}
AMOUNT_HEADINGS: Final = {
    "promises_due_today": N_("Promised"),
    "promises_broken": N_("Promised"),
    "legal_threshold": N_("Threshold"),
}


class BadFilter(ValueError):
    pass


@cache
def _shipped_legal() -> dict[str, LegalPolicy]:
    return {name: load_policy(name).legal for name in SHIPPED}


def legal_sections(services: Services) -> dict[str, LegalPolicy]:
    """Each profile's legal section: the shipped ones, and the console's own profile."""
    return _shipped_legal() | {services.policy.name: services.policy.legal}


def _filters(request: Request, services: Services) -> Filters:
    q = request.query_params
    stage, bucket = q.get("stage") or None, q.get("bucket") or None
    agency, policy = q.get("agency") or None, q.get("policy") or None
    if (
        (stage and stage not in STAGES)
        or (bucket and bucket not in BUCKETS)
        or (agency and not _AGENCY.match(agency))
        or (policy and policy not in legal_sections(services))
    ):
        raise BadFilter
    return Filters(stage=stage, bucket=bucket, agency=agency, policy=policy)


def _choices(services: Services) -> dict[str, list[str]]:
    return {
        "stage": list(STAGES),
        "bucket": list(BUCKETS),
        "agency": list(services.policy.outsourcing.agencies),
        "policy": sorted(legal_sections(services)),
    }


def _query(filters: Filters, **more: object) -> str:
    given = {k: v for k, v in vars(filters).items() if v} | {
        k: v for k, v in more.items() if v not in (None, "", False)
    }
    return urlencode(given)


def _refused(request: Request) -> Response:
    return render(request, "error.html", {"message": N_("Unknown filter value."), "detail": None},
                  status_code=400)  # fmt: skip


@router.get("/worklists")
async def worklists_index(request: Request, who: Worker) -> Response:
    services = services_of(request)
    try:
        filters = _filters(request, services)
    except BadFilter:
        return _refused(request)
    async with services.pool.acquire() as conn:
        counts = await worklist_counts(
            conn, today=bank_today(services), now=services.now(),
            legal=legal_sections(services), filters=filters,
        )  # fmt: skip
    context = {"counts": counts, "titles": TITLES, "filters": filters,
               "choices": _choices(services), "words": WORDS, "query": _query(filters)}  # fmt: skip
    return render(request, "worklists.html", context)


@router.get("/worklists/{name}")
async def worklist_page(request: Request, name: str, who: Worker) -> Response:
    services = services_of(request)
    if name not in WORKLISTS:
        return render(request, "error.html", {"message": N_("No such worklist."), "detail": None},
                      status_code=404)  # fmt: skip
    try:
        filters = _filters(request, services)
        default_sort, default_desc = WORKLISTS[name].default_sort
        sort = request.query_params.get("sort") or default_sort
        desc = request.query_params.get("desc", "1" if default_desc else "") == "1"
        page = int(request.query_params.get("page") or 1)
        if sort not in SORTS or page < 1:
            raise BadFilter
    except (BadFilter, ValueError):
        return _refused(request)
    async with services.pool.acquire() as conn:
        found = await worklist(
            conn, name, today=bank_today(services), now=services.now(),
            legal=legal_sections(services), filters=filters, sort=sort, descending=desc,
            limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE,
        )  # fmt: skip
    pages = max(1, -(-found.total // PAGE_SIZE))
    context = {
        "name": name, "list": found, "title": TITLES[name], "filters": filters,
        "choices": _choices(services), "words": WORDS, "sort": sort, "desc": desc,
        "page": page, "pages": pages, "key_heading": KEY_HEADINGS.get(name),
        "amount_heading": AMOUNT_HEADINGS.get(name),
        "sort_link": lambda column: "?" + _query(
            filters, sort=column, desc="1" if column == sort and not desc else ""),
        "page_link": lambda n: "?" + _query(filters, sort=sort, desc="1" if desc else "", page=n),
    }  # fmt: skip
    return render(request, "worklist.html", context)
