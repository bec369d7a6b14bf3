"""The Book's reports, `/book/reports` (issue 15): the last 12 months to the bank's today
as charts, every figure from the report runner (`arrears.reports.run.run_report`, the
same definitions as `arrears report`), none from SQL of the page's own.

A page of its own, linked from /book and under the same permission, rather than a part
of /book: the reports read a year of events (seconds on a large book, see
bench/report_speed.py), while /book reads the maintained `cases` rows and must answer
within 300 ms; loaded separately, /book keeps its speed and this page shows figures that
are never stale (no cache whose age would have to be explained)."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Final

from babel.numbers import format_percent
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from arrears.console.auth import allowed, services_of
from arrears.console.i18n import N_, Formats, translations
from arrears.console.pages.book import WORDS, bank_today
from arrears.console.rendering import formats_for, render, viewer_language
from arrears.console.services import Services
from arrears.people.sessions import SignedIn
from arrears.reports.command import default_from
from arrears.reports.run import Report, ReportQuery, run_report

router = APIRouter()
BookReader = Annotated[SignedIn, Depends(allowed("book"))]

#: The reports the page draws, by kind.
KINDS: Final = ("roll-rates", "cure", "recovery", "contacts", "promises")
CURE_DAYS: Final = (30, 60, 90)
#: An agency's hands, as shown beside its name.
HANDS: Final = {
    "early": N_("early hand"), "first": N_("first hand"), "second": N_("second hand"),
    "third": N_("third hand"), "long_aged": N_("long-aged hand"), "package": N_("package"),
}  # fmt: skip
_NUMBER = re.compile(r"[0-9]+")


def period(today: date) -> tuple[date, date]:
    """The last 12 months to `today` as `arrears report` counts them by default: today's
    month and the eleven before it, so month charts have whole months."""
    return default_from(today), today


async def reports(services: Services, today: date) -> dict[str, Report]:
    """Each kind the page draws, over the period ending `today`, for the whole book."""
    start, end = period(today)
    found = {}
    async with services.pool.acquire() as conn:
        for kind in KINDS:
            query = ReportQuery(kind=kind, date_from=start, date_to=end,
                                bank_timezone=services.policy.cycle.bank_timezone,
                                generated_at=services.now())  # fmt: skip
            found[kind] = await run_report(conn, query)
    return found


def percent(share: Decimal | int | str | date | None, fmt: Formats) -> str:
    """A share as the locale writes a percentage, one decimal ("12.5%"); empty if none."""
    if share is None:
        return ""
    return str(format_percent(Decimal(str(share)), "#,##0.0%", locale=fmt.locale))


def _points(share: Any) -> float:
    """A share as a chart value (percentage points); none is drawn as nothing."""
    return float(share) * 100 if share is not None else 0.0


def _bucket_number(bucket: Any) -> int | None:
    found = _NUMBER.search(str(bucket))
    return int(found.group()) if found else None


def roll_figures(report: Report, fmt: Formats) -> dict[str, Any]:
    """The latest month's matrix (cases shares, shaded) and each M(n) -> M(n+1) rate over
    the months."""
    months = sorted({str(r["month"]) for r in report.rows})
    latest = [r for r in report.rows if months and r["month"] == months[-1]]
    sources = list(dict.fromkeys(str(r["from_bucket"]) for r in latest))
    targets = list(dict.fromkeys(str(r["to_bucket"]) for r in latest))
    cells = {
        (str(r["from_bucket"]), str(r["to_bucket"])):
            (_points(r["cases_share"]), percent(r["cases_share"], fmt))
        for r in latest
    }  # fmt: skip
    rates: dict[str, dict[str, float]] = defaultdict(dict)
    for r in report.rows:
        n, m = _bucket_number(r["from_bucket"]), _bucket_number(r["to_bucket"])
        if n is not None and n >= 1 and m == n + 1:
            rates[f"{r['from_bucket']}→{r['to_bucket']}"][str(r["month"])] = _points(
                r["cases_share"]
            )
    series = [(name, f"s{i % 3 + 1}", [round(by_month.get(m, 0.0), 1) for m in months])
              for i, (name, by_month) in enumerate(sorted(rates.items()))]  # fmt: skip
    return {"month": months[-1] if months else None, "sources": sources, "targets": targets,
            "cells": cells, "months": months, "series": series}  # fmt: skip


def _label(word: Any, words: dict[str, str], value: Any) -> str:
    """A data word (channel, hand) in the viewer's language, as-is when unknown."""
    return str(word(words.get(str(value), str(value))))


def charts(found: dict[str, Report], fmt: Formats, word: Any) -> dict[str, Any]:
    """Chart rows from the reports, labels in the viewer's language: bars are
    (label, value, shown), column series (name, css class, values)."""
    cure = found["cure"].rows
    recovery = found["recovery"].rows
    by_month: dict[str, Decimal] = defaultdict(Decimal)
    for r in recovery:
        if r["section"] == "stage" and isinstance(amount := r["collected"], Decimal):
            by_month[str(r["month"])] += amount
    months = sorted(by_month)
    vintages = [r for r in recovery if r["section"] == "vintage"]
    agencies = [r for r in recovery if r["section"] == "agency"]
    channels = [r for r in found["contacts"].rows if r["outcome"] == "all"]
    promises = found["promises"]
    kept, broken = promises.totals.get("kept", 0), promises.totals.get("broken", 0)
    cure_series = [
        (word(N_("within %(days)s days")) % {"days": n}, f"s{i + 1}",
         [round(_points(r[f"share_{n}"]), 1) for r in cure])
        for i, n in enumerate(CURE_DAYS)
    ]  # fmt: skip
    by_agency = [
        (f"{r['agency']} ({_label(word, HANDS, r['hand'])})", amount, fmt.money(amount))
        for r in agencies if isinstance(amount := r["agency_collected"], Decimal)
    ]  # fmt: skip
    rpc = [
        (_label(word, {**WORDS, "all": N_("all channels")}, r["channel"]), _points(r["rpc_rate"]),
         percent(r["rpc_rate"], fmt))
        for r in channels
    ]  # fmt: skip
    liquidation = [round(_points(r["liquidation_rate"]), 1) for r in vintages]
    kept_rates = [round(_points(r["kept_rate"]), 1) for r in promises.rows]
    return {
        "roll": roll_figures(found["roll-rates"], fmt),
        "cure_buckets": [str(r["bucket"]) for r in cure],
        "cure": cure_series,
        "recovery_months": months,
        "recovery": [(word(N_("collected")), "s1", [float(by_month[m]) for m in months])],
        "recovery_total": fmt.money(sum(by_month.values(), Decimal("0.00"))),
        "by_agency": by_agency,
        "vintage_months": [str(r["month"]) for r in vintages],
        "liquidation": [(word(N_("liquidation rate")), "s2", liquidation)],
        "rpc": rpc,
        "promise_months": [str(r["month"]) for r in promises.rows],
        "kept": [(word(N_("kept rate")), "s2", kept_rates)],
        "kept_total": percent(Decimal(kept) / (kept + broken), fmt) if kept + broken else "",
    }


@router.get("/book/reports")
async def book_reports_page(request: Request, who: BookReader) -> Response:
    services = services_of(request)
    today = bank_today(services)
    found = await reports(services, today)
    language = viewer_language(services, who.user.locale)
    fmt = formats_for(services, language)
    start, end = period(today)
    context = {"charts": charts(found, fmt, translations(language).gettext),
               "start": start, "end": end}  # fmt: skip
    return render(request, "book_reports.html", context)
