"""The Book, `/book` (issue 14, page 1): the manager's first screen. Figures of the whole
book without personal data (`arrears.store.book`), as tables and server-drawn SVG charts
(`templates/charts.html`); the page refreshes its figures itself (`data-refresh`)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Final

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from arrears.console.auth import allowed, services_of
from arrears.console.i18n import N_, translations
from arrears.console.rendering import formats_for, render, viewer_language
from arrears.console.services import Services
from arrears.people.sessions import SignedIn
from arrears.store.book import book
from domain.localtime import zone
from domain.policy import STAGES

router = APIRouter()
BookReader = Annotated[SignedIn, Depends(allowed("book"))]

#: Seconds between the page's own refreshes of its figures.
REFRESH_SECONDS: Final = 60
WINDOW_DAYS: Final = 30
BUCKETS: Final = ("M0", "M1", "M2", "M3", "M4+")

#: Vocabulary shown from data, translated where shown.
WORDS: Final = {
    "reminder": N_("reminder"), "phone": N_("phone"), "letter": N_("letter"),
    "visit": N_("visit"), "outsourcing": N_("outsourcing"), "legal": N_("legal"),
    "sms": N_("sms"), "call": N_("call"),
    "delivered": N_("delivered"), "undelivered": N_("undelivered"),
    "no_answer": N_("no_answer"), "busy": N_("busy"), "left_message": N_("left_message"),
    "right_party_contact": N_("right_party_contact"),
    "third_party_contact": N_("third_party_contact"), "wrong_number": N_("wrong_number"),
    "invalid_number": N_("invalid_number"), "promise": N_("promise"),
    "refusal": N_("refusal"), "dispute": N_("dispute"), "visited": N_("visited"),
    "not_found": N_("not_found"),
}  # fmt: skip
#: Recovery while no agency held the case.
IN_HOUSE: Final = N_("in house")


def bank_today(services: Services) -> date:
    """Today as the bank counts days (its time zone), from the console's clock."""
    return services.now().astimezone(zone(services.policy.cycle.bank_timezone)).date()


@router.get("/book")
async def book_page(request: Request, who: BookReader) -> Response:
    services = services_of(request)
    async with services.pool.acquire() as conn:
        figures = await book(
            conn, today=bank_today(services), timezone=services.policy.cycle.bank_timezone,
            days=WINDOW_DAYS,
        )  # fmt: skip
    language = viewer_language(services, who.user.locale)
    word = translations(language).gettext
    fmt = formats_for(services, language)
    by_stage = {stage: sum(c.cases for c in figures.open_cases if c.stage == stage)
                for stage in STAGES}  # fmt: skip
    # Chart rows: (label, value, figure as shown), labels already in the viewer's language.
    charts = {
        "stages": [(word(WORDS[s]), n, fmt.number(n)) for s, n in by_stage.items()],
        "by_stage": [(word(WORDS.get(r.name or "", r.name or "")), r.amount, fmt.money(r.amount))
                     for r in figures.recovered_by_stage],
        "by_agency": [(r.name or word(IN_HOUSE), r.amount, fmt.money(r.amount))
                      for r in figures.recovered_by_agency],
        "days": [fmt.day(d.day) for d in figures.flow],
        "entering": [d.entering for d in figures.flow],
        "curing": [d.curing for d in figures.flow],
        "closing": [d.closing for d in figures.flow],
    }  # fmt: skip
    context = {
        "book": figures,
        "stages": STAGES,
        "buckets": BUCKETS,
        "cells": {(c.stage, c.bucket): c for c in figures.open_cases},
        "charts": charts,
        "channels": sorted({c.channel for c in figures.contacts}),
        "outcomes": sorted({c.outcome for c in figures.contacts}),
        "attempts": {(c.channel, c.outcome): c.attempts for c in figures.contacts},
        "words": WORDS,
        "refresh": REFRESH_SECONDS,
        "window_days": WINDOW_DAYS,
    }
    return render(request, "book.html", context)
